/**
 * `tractus export <segment output | workspace> --to rtstruct|dicom-seg|nifti|nnunet[,…] --out DIR
 * [--roi-names organ=name,…] [--data DIR] [--json]`: contours in the formats planning systems and research
 * tools import. Parsing and printing only; the work is in services/export.ts, which the app calls too.
 */
import type { Command } from 'commander';
import { parseRoiNames } from '../../export/organ-names';
import { EXPORT_TARGETS, exportFromPath, parseExportTargets } from '../../services/export';
import { ProgressBar } from '../progress';

interface ExportFlags {
  to: string;
  out: string;
  roiNames?: string;
  data?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('export <input>')
    .description(
      'Write the masks of a `tractus segment` output (predictions) or a workspace (reviewed contours) as ' +
        'RTSTRUCT, DICOM-SEG, NIfTI label maps or an nnU-Net v2 dataset',
    )
    .requiredOption('--to <formats>', `one or more of ${EXPORT_TARGETS.join(', ')}, comma-separated`)
    .requiredOption('--out <dir>', 'output folder (files written atomically)')
    .option(
      '--roi-names <map>',
      'structure names instead of TG-263 Bowel_Large/Bowel_Small/Stomach, e.g. large_bowel=Colon,stomach=Stomach',
    )
    .option('--data <path>', 'the dataset, when it has moved since the segment run or workspace was made')
    .option('--json', 'print a JSON summary on stdout')
    .action(async (input: string, flags: ExportFlags) => {
      const targets = parseExportTargets(flags.to, '--to');
      const names = parseRoiNames(flags.roiNames);
      let bar: ProgressBar | undefined;
      const summary = await exportFromPath({
        input,
        targets,
        out: flags.out,
        names,
        data: flags.data,
        onProgress: (done, total) => {
          bar ??= new ProgressBar({ label: 'scans', total });
          bar.update(done);
        },
      });
      for (const note of summary.notes) process.stderr.write(`${note}\n`);
      process.stdout.write(
        flags.json
          ? `${JSON.stringify(summary)}\n`
          : `wrote ${summary.files.length} files for ${summary.scans} scan${summary.scans === 1 ? '' : 's'} (${summary.targets.join(', ')}) in ${summary.out}\n`,
      );
    });
}
