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
  /** when and under what load (latest.* only: suites there come from different runs) */
  measured?: string;
}

async function readLatest(file: string): Promise<SuiteResult[]> {
  try {
    const json = JSON.parse(await fs.readFile(file, 'utf8')) as { results?: SuiteResult[] };
    return Array.isArray(json.results) ? json.results : [];
  } catch {
    return []; // no earlier run (or an unreadable one): latest.* start from this run
  }
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
  const dated = results.filter((r) => r.measured);
  if (dated.length > 0) lines.push('', 'Measured:', ...dated.map((r) => `- ${r.suite}: ${r.measured}`));
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
  process.stdout.write(toMarkdown(results, meta));
  const outDir = path.join(root, 'bench-results');
  await writeJsonAtomic(path.join(outDir, `${date.replace(/[:.]/g, '-')}.json`), { meta, results }, true);
  // latest.* hold every suite's most recent run: a subset run (`npm run bench -- segment`) replaces only its
  // own suites, each keeping the date and load it was measured at.
  const latestFile = path.join(outDir, 'latest.json');
  const previous = await readLatest(latestFile);
  const merged = [
    ...previous.filter((r) => !results.some((n) => n.suite === r.suite)),
    ...results.map((r) => ({ ...r, measured: `${meta.date} (load ${meta.load})` })),
  ].sort((a, b) => a.suite.localeCompare(b.suite));
  const latestMeta = { node: meta.node, cpu: meta.cpu, updated: date };
  await writeJsonAtomic(latestFile, { meta: latestMeta, results: merged }, true);
  await writeFileAtomic(path.join(outDir, 'latest.md'), toMarkdown(merged, latestMeta));
  if (results.some((r) => r.error)) process.exitCode = 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
