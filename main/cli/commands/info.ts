/**
 * `tractus info <input> [--json]`: what Tractus finds in a folder or file (patients, days, scans, sizes,
 * spacing, masks, anything it skipped and any slice that cannot be read) — the first thing to run on a new
 * export from the scanner.
 */
import type { Command } from 'commander';
import { formatWarnings } from '../../core/warnings';
import { describeDataset, formatDatasetSummary, openDataset } from '../../imaging/open';
import { unreadableSlices } from '../../imaging/verify';

export function register(program: Command): void {
  program
    .command('info')
    .description('Describe a dataset: patients, days, scans, slice sizes, spacing, masks and warnings')
    .argument(
      '<input>',
      'UW-Madison root/case/case-day folder, PNG folder, DICOM folder, NIfTI file or COCO .json',
    )
    .option('--csv <file>', 'masks for a UW-Madison folder (train.csv) when not found beside it')
    .option('--json', 'print one JSON object on stdout')
    .option('--no-check', 'do not read every slice (by default each is read once to find damaged files)')
    .action(async (input: string, flags: { csv?: string; json?: boolean; check: boolean }) => {
      const dataset = await openDataset(input, flags.csv ? { csv: flags.csv } : undefined);
      if (flags.check) {
        // files already named at opening (e.g. missing from a COCO list) are not named twice
        const named = new Set((dataset.warnings ?? []).map((w) => w.where));
        const damaged = (await unreadableSlices(dataset)).filter((w) => !named.has(w.where));
        if (damaged.length > 0) dataset.warnings = [...(dataset.warnings ?? []), ...damaged];
      }
      const summary = describeDataset(dataset);
      if (flags.json) {
        process.stdout.write(JSON.stringify({ ...summary, warningList: dataset.warnings ?? [] }) + '\n');
        return;
      }
      process.stdout.write(formatDatasetSummary(summary) + '\n');
      // grouped by reason: one line per kind of problem, not one per file
      for (const line of formatWarnings(dataset.warnings ?? [])) process.stdout.write(`warning: ${line}\n`);
    });
}
