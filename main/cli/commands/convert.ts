/**
 * `tractus convert <input> --to coco|kaggle|kaggle-wide --out <file> [--polygons] [--masks DIR]`: organ masks
 * between Kaggle CSV, COCO and colour-mask images. Parsing and printing only; see services/convert.ts.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors';
import { CONVERT_TARGETS, convertFile, type ConvertTarget } from '../../services/convert';
import { ProgressBar } from '../progress';

interface ConvertFlags {
  to: string;
  out: string;
  polygons?: boolean;
  masks?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('convert <input>')
    .description(
      'Convert organ masks: Kaggle layout/train.csv or wide CSV → COCO, COCO → Kaggle CSV, colour masks → COCO',
    )
    .requiredOption('--to <format>', `output format: ${CONVERT_TARGETS.join(' | ')}`)
    .requiredOption('--out <file>', 'output file (written atomically)')
    .option('--polygons', 'COCO output with polygons instead of RLE')
    .option('--masks <dir>', 'folder of colour-coded masks; <input> is then the folder of their images')
    .option('--json', 'print a JSON summary on stdout')
    .action(async (input: string, flags: ConvertFlags) => {
      if (!(CONVERT_TARGETS as readonly string[]).includes(flags.to)) {
        throw new InputError('--to', `'${flags.to}' is not one of ${CONVERT_TARGETS.join(', ')}`);
      }
      let bar: ProgressBar | undefined;
      const summary = await convertFile({
        input,
        to: flags.to as ConvertTarget,
        out: flags.out,
        polygons: flags.polygons,
        masks: flags.masks,
        onProgress: (done, total) => {
          bar ??= new ProgressBar({ label: 'slices', total });
          bar.update(done);
        },
      });
      process.stdout.write(
        flags.json
          ? `${JSON.stringify(summary)}\n`
          : `wrote ${summary.out}: ${summary.slices} slices, ${summary.masks} organ masks (${summary.to})\n`,
      );
    });
}
