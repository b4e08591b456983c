/**
 * `tractus segment <input> --out <dir> [--model DIR] [--backend B] [--workers N] [--batch N] [--force] [--json]`.
 * Parsing and printing only; the work is in services/segment.ts, which the app calls too.
 *
 * Exit codes: 0 when at least one scan was segmented (failed scans are listed in summary.json with the
 * reason), 1 when every scan failed, 2 for a bad input or model (InputError, one line on stderr).
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors';
import { INFERENCE_PREFERENCES, type InferencePreference } from '../../model/onnx/choose';
import { parseRoiNames } from '../../export/organ-names';
import { EXPORT_TARGETS, parseExportTargets } from '../../services/export';
import { segmentInput, type SegmentSummary } from '../../services/segment';
import { ProgressBar } from '../progress';

interface SegmentFlags {
  out: string;
  model?: string;
  backend: string;
  workers?: string;
  batch?: string;
  force?: boolean;
  json?: boolean;
  export?: string;
  roiNames?: string;
}

const BACKENDS: readonly string[] = INFERENCE_PREFERENCES;

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InputError(flag, `expected a whole number ≥ 1, got "${value}"`);
  return n;
}

export function register(program: Command): void {
  program
    .command('segment')
    .description('Outline large bowel, small bowel and stomach on every slice of the input scans')
    .argument(
      '<input>',
      'UW-Madison folder (root, case or case-day), PNG or DICOM folder, NIfTI file, or COCO .json',
    )
    .requiredOption(
      '--out <dir>',
      'output folder: predictions.json, images.coco.json, submission.csv, summary.json',
    )
    .option(
      '--model <dir>',
      'model folder (model.json, weights.bin, model-card.json); default: the shipped model',
    )
    .option(
      '--backend <name>',
      `${BACKENDS.join(', ')}: auto and onnx run ONNX Runtime on the model's model.onnx when it passes ` +
        'its self-check, else the best tfjs backend',
      'auto',
    )
    .option(
      '--workers <n>',
      'threads running the network (default: 2 on wasm, cpu and ONNX Runtime — one ONNX thread each — with ≥ 2 cores and ≥ 24 slices, else 1)',
    )
    .option('--batch <n>', 'slices per forward pass (default 1 on ONNX Runtime workers, else 4)')
    .option('--force', 'recompute scans finished by an earlier run')
    .option('--json', 'print the summary as one JSON object on stdout')
    .option(
      '--export <formats>',
      `also write ${EXPORT_TARGETS.join(', ')} beside the outputs (<scan>.rtstruct.dcm, <scan>.seg.dcm, <scan>.seg.nii.gz), comma-separated`,
    )
    .option('--roi-names <map>', 'structure names for --export instead of TG-263, e.g. large_bowel=Colon')
    .action(async (input: string, flags: SegmentFlags) => {
      const exportTargets =
        flags.export === undefined ? undefined : parseExportTargets(flags.export, '--export');
      const roiNames = flags.roiNames === undefined ? undefined : parseRoiNames(flags.roiNames);
      if (!BACKENDS.includes(flags.backend)) {
        throw new InputError('--backend', `"${flags.backend}" is not one of ${BACKENDS.join(', ')}`);
      }
      const workers = flags.workers === undefined ? undefined : positiveInt(flags.workers, '--workers');
      const log = (msg: string) => process.stderr.write(`${msg}\n`);
      let bar: ProgressBar | undefined;
      let barScan = -1;
      const summary = await segmentInput({
        input,
        out: flags.out,
        modelDir: flags.model,
        backend: flags.backend as InferencePreference,
        force: flags.force,
        workers,
        batch: flags.batch === undefined ? undefined : positiveInt(flags.batch, '--batch'),
        export: exportTargets,
        roiNames,
        log,
        onProgress: (p) => {
          if (p.scanIndex !== barScan) {
            barScan = p.scanIndex;
            bar = new ProgressBar({
              label: `${p.scanId} (${p.scanIndex + 1}/${p.scanCount})`,
              total: p.total,
            });
          }
          bar?.update(p.done);
        },
        onScanDone: (s) => {
          if (s.resumed) log(`${s.id}: already done (resumed; --force recomputes)`);
          else if (s.status === 'failed') log(`${s.id}: FAILED: ${s.reason}`);
        },
      });
      process.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary, flags.out));
      if (summary.ok === 0) process.exitCode = 1;
    });
}

function formatSummary(s: SegmentSummary, out: string): string {
  const lines = s.scans.map((scan) => {
    // the reason was printed when the scan failed (onScanDone): not again
    if (scan.status === 'failed') return `${scan.id}: failed (reason above)`;
    const vol = scan.volumesMl
      ? Object.entries(scan.volumesMl)
          .map(([organ, ml]) => `${organ} ${ml === null ? '—' : `${ml.toFixed(1)} mL`}`)
          .join(', ')
      : 'volumes unknown (no pixel spacing)';
    const concerns = scan.acquisition.concerns;
    const warn = concerns.length > 0 ? ` — WARNING: ${concerns.join('; ')}` : '';
    return `${scan.id}: ${scan.slices} slices ${scan.width}×${scan.height}, ${scan.seconds.toFixed(1)} s; ${vol}${warn}`;
  });
  const warn = s.model.placeholder ? `\nWARNING: ${s.model.name} is a placeholder model, not trained.` : '';
  return `${lines.join('\n')}\n${s.ok} of ${s.scans.length} scans segmented (backend ${s.backend}, ${s.workers} worker${s.workers === 1 ? '' : 's'}); results in ${out}${warn}\n`;
}
