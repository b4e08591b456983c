/**
 * `tractus info <input> [--json]`: what Tractus finds in a folder or file (patients, days, scans, sizes,
 * spacing, masks, and anything it skipped) — the first thing to run on a new export from the scanner.
 */
import type { Command } from 'commander';
import { formatWarnings } from '../../core/warnings';
import { describeDataset, formatDatasetSummary, openDataset } from '../../imaging/open';

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
    .action(async (input: string, flags: { csv?: string; json?: boolean }) => {
      const dataset = await openDataset(input, flags.csv ? { csv: flags.csv } : undefined);
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
