/**
 * Experiment script: one markdown table row per crossval.json (label=path pairs), for models/README.md.
 *   node --import tsx scripts/model/table.ts "label=DIR/crossval.json" …
 */
import { ORGANS } from '../../main/core/organs';
import { readJsonOrExplain } from '../../main/io/files';
import type { CrossvalReport } from '../../main/services/crossval';
import type { Score } from '../../main/services/crossval-score';

const f = (v: number | null): string => (v === null ? '–' : v.toFixed(2));
const cells = (s: Score): string =>
  ORGANS.map((o) => f(s.organs[o].dice)).join(' | ') +
  ` | **${f(s.meanDice)}** | ` +
  ORGANS.map((o) => f(s.organs[o].correctEmpty)).join(' / ');

for (const arg of process.argv.slice(2)) {
  const [label, file] = arg.split('=') as [string, string];
  const r = (await readJsonOrExplain(file)) as CrossvalReport;
  const hours = r.folds.reduce((s, x) => s + x.seconds, 0) / 3600;
  process.stdout.write(
    `| ${label} | ${r.steps} × 4 | ${hours.toFixed(2)} h | 0.5 | ${cells(r.untuned)} |\n` +
      `| ${label} | | | tuned | ${cells(r.tuned)} |\n`,
  );
}
