/**
 * `npm run bench`: runs every test/bench/*.bench.ts (each exports `bench(): Promise<Row[]>`), prints one
 * table, and saves bench-results/<date>.json plus bench-results/latest.md. Pass name fragments to run a
 * subset: `npm run bench -- backend train`. A bench that throws is reported as a failed row, not a crash.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFileAtomic, writeJsonAtomic } from '../../main/io/files';

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

interface SuiteResult {
  suite: string;
  seconds: number;
  rows: BenchRow[];
  error?: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');

function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  return abs >= 100 ? v.toFixed(0) : abs >= 10 ? v.toFixed(1) : abs >= 0.01 ? v.toFixed(2) : v.toPrecision(3);
}

export function toMarkdown(results: SuiteResult[], meta: Record<string, string>): string {
  const lines = [
    `# Benchmarks`,
    '',
    Object.entries(meta)
      .map(([k, v]) => `${k}: ${v}`)
      .join(' · '),
    '',
    '| suite | benchmark | value | unit | note |',
    '| --- | --- | ---: | --- | --- |',
  ];
  for (const r of results) {
    if (r.error) lines.push(`| ${r.suite} | FAILED | | | ${r.error.replace(/\|/g, '\\|')} |`);
    for (const row of r.rows) {
      const note = (row.note ?? '').replace(/\|/g, '\\|');
      lines.push(`| ${r.suite} | ${row.name} | ${formatValue(row.value)} | ${row.unit} | ${note} |`);
    }
  }
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  const filters = process.argv.slice(2);
  const files = (await fs.readdir(here))
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => filters.length === 0 || filters.some((q) => f.includes(q)))
    .sort();
  const results: SuiteResult[] = [];
  for (const file of files) {
    const suite = file.replace(/\.bench\.ts$/, '');
    process.stderr.write(`bench ${suite} …\n`);
    const t0 = performance.now();
    try {
      const mod = (await import(pathToFileURL(path.join(here, file)).href)) as {
        bench?: () => Promise<BenchRow[]>;
      };
      if (typeof mod.bench !== 'function') throw new Error('exports no bench() function');
      const rows = await mod.bench();
      results.push({ suite, seconds: (performance.now() - t0) / 1000, rows });
    } catch (e) {
      results.push({
        suite,
        seconds: (performance.now() - t0) / 1000,
        rows: [],
        error: (e as Error).message,
      });
    }
    const last = results[results.length - 1]!;
    for (const row of last.rows) {
      process.stderr.write(
        `  ${row.name}: ${formatValue(row.value)} ${row.unit}${row.note ? ` (${row.note})` : ''}\n`,
      );
    }
    if (last.error) process.stderr.write(`  FAILED: ${last.error}\n`);
  }
  const date = new Date().toISOString();
  const meta = {
    date,
    node: process.versions.node,
    cpu: `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? '?'}`,
    load: os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' '),
  };
  const md = toMarkdown(results, meta);
  process.stdout.write(md);
  const outDir = path.join(root, 'bench-results');
  await writeJsonAtomic(path.join(outDir, `${date.replace(/[:.]/g, '-')}.json`), { meta, results }, true);
  await writeFileAtomic(path.join(outDir, 'latest.md'), md);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
