/**
 * `tractus crossval --data <COCO | dataset folder | list> --out DIR [--init DIR] …`: leave-one-patient-out
 * cross-validation — how well a model (fine-tuned from --init, or trained from scratch) does on patients
 * it never saw. Writes DIR/crossval.json (per-fold and pooled Dice, correct empties, tuned post-processing).
 */
import { Command } from 'commander';
import { ORGANS } from '../../core/organs';
import { openCocoDataset } from '../../imaging/coco-images';
import { openDataset } from '../../imaging/open';
import type { BackendPreference } from '../../model/backend/select';
import { openTrainingSource } from '../../model/train/sources';
import { readDerivedPatients } from '../../synth/provenance';
import {
  crossValidate,
  HEAVY_AUGMENT,
  type ChosenSetting,
  type CrossvalReport,
  type HeldOutTta,
} from '../../services/crossval';
import { DEFAULT_AUGMENT, type AugmentConfig } from '../../model/augment';
import { InputError } from '../../core/errors';
import type { Score } from '../../services/crossval-score';
import type { KeepEpoch, LrSchedule } from '../../model/train/schedule';
import type { WholeScanReport } from '../../services/crossval-scans';
import { diceWhereBoth } from '../../metrics/segmentation-score';
import { readSlicePrior } from '../../model/slice-prior-file';
import { trainingProgressPrinter } from '../training-progress';
import type { TrainProgress } from '../../model/train/loop';
import {
  backendName,
  keepEpochOf,
  lrScheduleOf,
  oneOf,
  positiveNumber,
  share,
  wholeNumber,
} from '../options';

const ttaOf = oneOf<HeldOutTta>(['none', 'hflip'], ' or ');

interface CrossvalCliOptions {
  data: string;
  out: string;
  init?: string;
  initFolds?: string;
  arch: string;
  inputSize: number;
  stride: number;
  spacingMm?: number;
  wholeScans?: boolean;
  slicePrior?: string;
  extra?: string;
  realShare: number;
  epochs: number;
  stepsPerEpoch: number;
  batch: number;
  lr?: number;
  lrSchedule: LrSchedule;
  keep: KeepEpoch;
  seed: number;
  augment: string;
  folds?: string;
  overlays?: boolean;
  backend: BackendPreference;
  workers: number;
  tta: HeldOutTta;
  json?: boolean;
}

function augmentOf(kind: string): AugmentConfig | null {
  if (kind === 'heavy') return HEAVY_AUGMENT;
  if (kind === 'default') return DEFAULT_AUGMENT;
  if (kind === 'none') return null;
  throw new InputError('--augment', `unknown kind "${kind}" (heavy, default, none)`);
}

const open = (source: string) =>
  openTrainingSource(source, { coco: openCocoDataset, folder: (dir) => openDataset(dir) });

function scoreLine(label: string, s: Score): string {
  const organs = ORGANS.map((o) => {
    const r = s.organs[o];
    const empty = r.correctEmpty === null ? '' : `, empty ${(r.correctEmpty * 100).toFixed(0)}%`;
    return `${o} ${r.dice === null ? '–' : r.dice.toFixed(3)}${empty}`;
  }).join('; ');
  return `${label}: mean Dice ${s.meanDice?.toFixed(3) ?? '–'} (${organs})`;
}

function scanLine(label: string, w: WholeScanReport): string {
  const c = w.pooled.competition;
  const organs = ORGANS.map((o) => `${o} ${w.pooled.dice[o]?.toFixed(3) ?? '–'}`).join(', ');
  const perScan = w.perScan
    .map((s) => `${s.scanId} ${s.score.competition.score?.toFixed(3) ?? '–'}`)
    .join(', ');
  const both = diceWhereBoth(w.pooled);
  const n = w.pooled.counts;
  return (
    `${label}: competition score ${c.score?.toFixed(3) ?? '–'} (Dice with empties ${c.dice.mean?.toFixed(3) ?? '–'}, ` +
    `Hausdorff ${c.hausdorff.mean?.toFixed(3) ?? '–'}); Dice where present or predicted ${w.pooled.dice.mean?.toFixed(3) ?? '–'} ` +
    `(${organs}; of its ${n.pairs_scored} slice-organ pairs, ${n.false_positive_slices} predicted only and ` +
    `${n.missed_slices} missed score 0, the others ${both.mean?.toFixed(3) ?? '–'}); per scan: ${perScan}`
  );
}

export function formatReport(r: CrossvalReport): string {
  const lines = [
    `${r.folds.length} folds, ${r.steps} steps each, ${(r.seconds / 60).toFixed(1)} min (${r.backend})`,
    scoreLine('threshold 0.5', r.untuned),
    scoreLine('tuned post-processing (nested)', r.tuned),
  ];
  if (r.scans) {
    lines.push(scanLine('whole scans, threshold 0.5', r.scans.plain));
    lines.push(scanLine('whole scans, tuned (nested)', r.scans.tuned));
    if (r.scans.plainWithPrior) {
      lines.push(scanLine('whole scans, threshold 0.5 + position prior (nested)', r.scans.plainWithPrior));
    }
    const chosenLines = (title: string, t: ChosenSetting | undefined) => {
      if (!t) return;
      lines.push(scanLine(title, t.report));
      lines.push(
        `  chosen per patient: ${Object.entries(t.chosen)
          .map(([p, c]) => `${p}: ${c}`)
          .join('; ')}; on all: ${t.setting.label}`,
      );
    };
    chosenLines(
      'whole scans, threshold (+ prior) chosen by the competition score (nested)',
      r.scans.thresholdByScore,
    );
    chosenLines(
      'whole scans, threshold (+ prior) + stomach 3-D cleanup chosen by the competition score (nested)',
      r.scans.volumeByScore,
    );
    chosenLines(
      'whole scans, threshold (+ prior) + empty-organ gate by area chosen by the competition score (nested)',
      r.scans.gateByScore,
    );
    if (r.scans.tunedWithPrior) {
      lines.push(scanLine('whole scans, tuned + position prior (nested)', r.scans.tunedWithPrior));
    }
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('crossval')
    .description('Leave-one-patient-out cross-validation: Dice per organ on patients the model never saw')
    .requiredOption('--data <source>', 'labelled real slices: COCO JSON, dataset folder, or list file')
    .requiredOption('--out <dir>', 'work folder: fold checkpoints, crossval.json, overlays/')
    .option('--init <dir>', 'base model folder to fine-tune in every fold (default: train from scratch)')
    .option(
      '--init-folds <dir>',
      'an earlier crossval --out: each fold fine-tunes the model that run trained without this patient (give that run’s --arch/--input-size)',
    )
    .option('--arch <name>', 'architecture when training from scratch', 'unet-small')
    .option('--input-size <n>', 'input side when training from scratch', wholeNumber(16), 128)
    .option(
      '--stride <n>',
      '2.5D slice offset s when training from scratch (0: the slice alone)',
      wholeNumber(0),
      0,
    )
    .option(
      '--spacing-mm <x>',
      'mm per input pixel when training from scratch (scans with known spacing are resampled to it)',
      positiveNumber,
    )
    .option(
      '--whole-scans',
      'keep scans whole (2.5D neighbours are real slices); default: each slice its own one-slice scan',
    )
    .option(
      '--slice-prior <file>',
      'with --whole-scans: also score with this position prior (JSON, scripts/model/slice-prior.ts)',
    )
    .option(
      '--extra <source>',
      'more labelled slices for every fold’s training (e.g. SynthSeg, transplants), never scored; a fold leaves out the synthetic scans made from its own patient (as the folder’s synth.json records)',
    )
    .option('--real-share <x>', 'share of training draws from the real slices with --extra', share, 0.5)
    .option('--epochs <n>', 'epochs per fold (0: score the --init model unchanged)', wholeNumber(0), 4)
    .option('--steps-per-epoch <n>', 'optimiser steps per epoch', wholeNumber(1), 25)
    .option('--batch <n>', 'batch size', wholeNumber(1), 4)
    .option(
      '--lr <x>',
      'learning rate (default 3e-4 with --init or --init-folds, 1e-3 without)',
      positiveNumber,
    )
    .option(
      '--lr-schedule <kind>',
      'plateau | cosine (decay to ~0 over the fold, per epoch) | cosine-step (the same, per step)',
      lrScheduleOf,
      'plateau',
    )
    .option(
      '--keep <epoch>',
      'best (lowest training loss: folds have no validation set) | last (the end of the schedule)',
      keepEpochOf,
      'best',
    )
    .option('--seed <n>', 'random seed', wholeNumber(0), 1)
    .option('--augment <kind>', 'heavy (default) | default | none', 'heavy')
    .option('--folds <patients>', 'hold out only these patients, e.g. "case101,case11"')
    .option('--overlays', 'write truth|prediction PNGs of every held-out slice to <out>/overlays')
    .option('--backend <name>', 'auto | tensorflow | wasm | cpu', backendName, 'auto')
    .option(
      '--workers <n>',
      "worker threads sharing each fold's batches (0: the main thread, as the recipes of models/README.md ran; batch norm then sees each share alone)",
      wholeNumber(0),
      0,
    )
    .option(
      '--tta <kind>',
      'none | hflip (each held-out map averaged with that of the mirrored slice)',
      ttaOf,
      'none',
    )
    .option('--json', 'print the report as JSON on stdout')
    .action(async (o: CrossvalCliOptions) => {
      const extraDerivedFrom = o.extra ? await readDerivedPatients(o.extra) : undefined;
      const report = await crossValidate({
        dataset: await open(o.data),
        ...(o.init ? { init: o.init } : {}),
        ...(o.initFolds ? { initFolds: o.initFolds } : {}),
        arch: o.arch,
        inputSize: o.inputSize,
        sliceStride: o.stride,
        ...(o.spacingMm ? { spacingMm: o.spacingMm } : {}),
        isolateSlices: !o.wholeScans,
        ...(o.slicePrior ? { slicePrior: await readSlicePrior(o.slicePrior) } : {}),
        ...(o.extra ? { extra: await open(o.extra) } : {}),
        ...(extraDerivedFrom ? { extraDerivedFrom } : {}),
        realShare: o.realShare,
        epochs: o.epochs,
        stepsPerEpoch: o.stepsPerEpoch,
        batchSize: o.batch,
        learningRate: o.lr ?? (o.init || o.initFolds ? 3e-4 : 1e-3),
        lrSchedule: o.lrSchedule,
        keep: o.keep,
        seed: o.seed,
        augment: augmentOf(o.augment),
        ...(o.folds ? { folds: o.folds.split(',').map((f) => f.trim()) } : {}),
        workDir: o.out,
        overlays: Boolean(o.overlays),
        backend: o.backend,
        workers: o.workers,
        tta: o.tta,
        log: (line) => process.stderr.write(line + '\n'),
        onProgress: foldProgress(),
      });
      process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report) + '\n');
    });
}

/** One progress printer per fold, each line prefixed with the held-out patient. */
function foldProgress(): (patient: string, p: TrainProgress) => void {
  const printers = new Map<string, (p: TrainProgress) => void>();
  return (patient, p) => {
    let print = printers.get(patient);
    if (!print) printers.set(patient, (print = trainingProgressPrinter(`fold ${patient}: `)));
    print(p);
  };
}
