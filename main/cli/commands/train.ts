/**
 * `tractus train --data <COCO | dataset folder | list> --out <DIR> …`: train or fine-tune a model,
 * write the model folder + history.jsonl, and register it (with --activate, make it the active model).
 */
import { Command } from 'commander';
import type { BackendPreference } from '../../model/backend/select';
import type { KeepEpoch, LrSchedule } from '../../model/train/schedule';
import { train } from '../../services/train';
import { share, backendName, keepEpochOf, lrScheduleOf, positiveNumber, wholeNumber } from '../options';
import { trainingProgressPrinter } from '../training-progress';

interface TrainCliOptions {
  data: string;
  out: string;
  init?: string;
  arch?: string;
  epochs: number;
  batch: number;
  lr?: number;
  lrSchedule: LrSchedule;
  keep: KeepEpoch;
  val: string;
  resume?: boolean;
  stepsPerEpoch?: number;
  inputSize?: number;
  stride: number;
  spacingMm?: number;
  backend: BackendPreference;
  workers?: number;
  seed: number;
  augment: boolean;
  heavyAugment?: boolean;
  extra?: string;
  realShare: number;
  activate?: boolean;
  register: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('train')
    .description('Train or fine-tune a segmentation model; writes a model folder and registers it')
    .requiredOption('--data <source>', 'COCO JSON, dataset folder (Kaggle layout), or a list file of those')
    .requiredOption(
      '--out <dir>',
      'output model folder (model.json, weights, model-card.json, history.jsonl)',
    )
    .option('--init <dir>', 'fine-tune this model folder instead of starting from scratch')
    .option('--arch <name>', 'unet | unet-small | effunet-b0 … effunet-b7 (ignored with --init)', 'unet')
    .option('--epochs <n>', 'epochs', wholeNumber(1), 50)
    .option('--batch <n>', 'batch size', wholeNumber(1), 4)
    .option('--lr <x>', 'initial learning rate (default 1e-3, 1e-4 with --init)', positiveNumber)
    .option(
      '--lr-schedule <kind>',
      'plateau (halve on a validation plateau) | cosine (decay over the epochs) | cosine-step (decay per step)',
      lrScheduleOf,
      'plateau',
    )
    .option(
      '--keep <epoch>',
      'best (validation Dice; without validation, training loss) | last (the end of the schedule)',
      keepEpochOf,
      'best',
    )
    .option('--val <patients|fraction>', 'validation patients "case1,case2" or a fraction of patients', '0.2')
    .option('--resume', 'continue the run in --out from its last checkpoint')
    .option(
      '--steps-per-epoch <n>',
      'optimiser steps per epoch (default: one pass over the slices)',
      wholeNumber(1),
    )
    .option(
      '--input-size <n>',
      'network input side in pixels (default 256); with --init: fine-tune its weights at this size, its field of view kept',
      wholeNumber(1),
    )
    .option('--stride <n>', '2.5D slice offset s (ignored with --init)', wholeNumber(0), 2)
    .option(
      '--spacing-mm <x>',
      'mm per input pixel: scans with known spacing are resampled to it (with --init: only with --input-size)',
      positiveNumber,
    )
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu', backendName, 'auto')
    .option(
      '--workers <n>',
      'worker threads sharing each batch (0: the main thread; default 2 on wasm/cpu with 2+ cores when each gets ≥ 4 images, else 1; batch norm sees each share alone)',
      wholeNumber(0),
    )
    .option(
      '--seed <n>',
      'random seed (split, initial weights, sampling, augmentation): same seed, same weights',
      (v) => Number.parseInt(v, 10),
      1,
    )
    .option('--no-augment', 'train without augmentation')
    .option('--heavy-augment', 'wider augmentation ranges (for few patients)')
    .option(
      '--extra <source>',
      'more labelled slices for training only (e.g. SynthSeg, transplants), never validated on; synthetic scans made from a validation patient (its synth.json says) are left out',
    )
    .option('--real-share <x>', 'share of training draws from --data when --extra is given', share, 0.7)
    .option('--activate', 'make the trained model the active one')
    .option('--no-register', 'do not copy the result into the model registry')
    .option('--json', 'print the outcome as JSON on stdout')
    .action(async (opts: TrainCliOptions) => {
      const controller = new AbortController();
      const onSigint = (): void => {
        process.stderr.write('\ntractus: stopping after this step (checkpoint kept; --resume continues)\n');
        controller.abort();
      };
      process.once('SIGINT', onSigint);
      try {
        const outcome = await train({
          data: opts.data,
          outDir: opts.out,
          ...(opts.init ? { init: opts.init } : {}),
          ...(opts.arch ? { arch: opts.arch } : {}),
          epochs: opts.epochs,
          batchSize: opts.batch,
          ...(opts.lr ? { learningRate: opts.lr } : {}),
          lrSchedule: opts.lrSchedule,
          keep: opts.keep,
          val: opts.val,
          resume: Boolean(opts.resume),
          ...(opts.stepsPerEpoch ? { stepsPerEpoch: opts.stepsPerEpoch } : {}),
          ...(opts.inputSize ? { inputSize: opts.inputSize } : {}),
          sliceStride: opts.stride,
          ...(opts.spacingMm ? { spacingMm: opts.spacingMm } : {}),
          backend: opts.backend,
          ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
          seed: opts.seed,
          augment: opts.augment,
          ...(opts.heavyAugment ? { heavyAugment: true } : {}),
          ...(opts.extra ? { extra: opts.extra, realShare: opts.realShare } : {}),
          register: opts.register,
          activate: Boolean(opts.activate),
          signal: controller.signal,
          log: (line) => process.stderr.write(`${line}\n`),
          onProgress: trainingProgressPrinter(),
        });
        const summary = {
          outDir: outcome.outDir,
          backend: outcome.backend,
          epochs: outcome.result.lastEpoch,
          bestEpoch: outcome.result.bestEpoch,
          validation: outcome.card.validation,
          cancelled: outcome.result.cancelled,
          stoppedEarly: outcome.result.stoppedEarly,
          imagesPerSecond: outcome.result.imagesPerSecond,
          workers: outcome.result.workers,
          registered: outcome.registered?.id ?? null,
        };
        process.stdout.write(
          opts.json
            ? JSON.stringify(summary, null, 2) + '\n'
            : `model written to ${summary.outDir}${summary.registered ? ` (registered as ${summary.registered})` : ''}\n`,
        );
      } finally {
        process.removeListener('SIGINT', onSigint);
      }
    });
}
