/**
 * Patient-wise (leave-one-patient-out) cross-validation: for each patient, a model is trained or
 * fine-tuned on the OTHER patients' labelled slices and scored on this patient's, so no score comes from
 * a patient the model has seen. The held-out probability maps of all folds then tune the post-processing
 * (threshold, empty-organ gate, minimum component), itself scored by nested LOPO (see crossval-score.ts).
 *
 * Slices of a COCO set are usually a few slices per scan with gaps between them, not neighbours: by
 * default each slice becomes its own one-slice scan, so a 2.5D input repeats the slice itself in both
 * neighbour channels — the same in training and scoring.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../core/errors';
import { ORGANS, type Organ } from '../core/organs';
import type { Dataset, Scan } from '../core/types';
import { readFileOrExplain, readJsonOrExplain, writeFileAtomic, writeJsonAtomic } from '../io/files';
import { writePngRgb } from '../imaging/png';
import { buildModel, type ArchSpec, type InputSize } from '../model/arch';
import { HEAVY_AUGMENT, type AugmentConfig } from '../model/augment';
import { initBackend, type BackendPreference } from '../model/backend/select';
import type { ModelCard } from '../model/card';
import { loadModel } from '../model/model-io';
import type { OrganPostprocess } from '../model/postprocess';
import {
  DEFAULT_NORMALISATION,
  inputTransform,
  unletterbox,
  type NormalisationSpec,
} from '../model/preprocess';
import { labelledSlices, oversample, SampleBuilder, type LabelledSlice } from '../model/train/dataset';

// Re-exported: the CLI and scripts name them from here.
export { HEAVY_AUGMENT, oversample };
import { CHECKPOINT_DIR, DEFAULT_LOOP, runTraining, type TrainProgress } from '../model/train/loop';
import { loadTensors } from '../model/train/weights-file';
import type { KeepEpoch, LrSchedule } from '../model/train/schedule';
import { BASE_POSTPROCESS, HeldOutSet, type HeldOutSlice, type Score } from './crossval-score';
import { archSpecByName } from './train';
import {
  scoreHeldOutScans,
  scoreNestedChoice,
  scoreWithSlicePrior,
  type ScanSetting,
  type PostprocessFor,
  type WholeScanReport,
} from './crossval-scans';
import type { SlicePrior } from '../model/slice-prior';
import { withoutDerivedFrom } from '../synth/provenance';

export interface CrossvalJob {
  /** The labelled real slices (opened by the caller: COCO, dataset folder, list). */
  dataset: Dataset;
  /** Base model folder to fine-tune in each fold; without it each fold trains `arch` from scratch. */
  init?: string;
  /**
   * An earlier cross-validation's work folder: each fold starts from the weights that run's fold for the
   * same patient ended with — a model that never saw this patient — and `arch`, `inputSize` and
   * `sliceStride` must be that run's. This measures fine-tuning a shipped recipe without leaking the
   * held-out patient (the shipped model itself saw every patient).
   */
  initFolds?: string;
  arch?: string;
  inputSize?: number;
  /** 2.5D stride for models trained from scratch (default 0: the slice alone, repeated). */
  sliceStride?: number;
  /** Millimetres per input pixel for models trained from scratch (absent: slices fitted to the input). */
  spacingMm?: number;
  /** Extra labelled slices added to every fold's training set (e.g. SynthSeg samples), never scored. */
  extra?: Dataset;
  /**
   * Extra scan id → the real patients it was made from (synth.json, main/synth/provenance): in a
   * patient's fold, the extra scans made from that patient's images or label maps are left out.
   */
  extraDerivedFrom?: ReadonlyMap<string, readonly string[]>;
  /** Share of training draws that come from the real slices when `extra` is given (default 0.5). */
  realShare?: number;
  /** Optimiser steps per fold = epochs × stepsPerEpoch; 0 scores the base model as it is. */
  epochs: number;
  stepsPerEpoch: number;
  batchSize: number;
  learningRate: number;
  /** Default `plateau` (on the training loss: folds have no validation set). */
  lrSchedule?: LrSchedule;
  /** The epoch whose weights each fold keeps (default `best`: the lowest training loss). */
  keep?: KeepEpoch;
  seed: number;
  /** Default HEAVY_AUGMENT; null for none. */
  augment?: AugmentConfig | null;
  /** One-slice scans for the real slices (default true; see module comment). */
  isolateSlices?: boolean;
  /** Only these patients as held-out folds (default every patient). */
  folds?: string[];
  /**
   * Position prior to try on whole scans (learned from masks of patients outside this data); its
   * threshold is tuned nested, like the post-processing.
   */
  slicePrior?: SlicePrior;
  /** Fold checkpoints, report and overlays go here. */
  workDir: string;
  overlays?: boolean;
  backend?: BackendPreference;
  /**
   * Worker threads for each fold's optimiser steps (each takes a share of every batch; see
   * model/train/loop). Default 0: this thread, as the recipes in models/README.md were run.
   */
  workers?: number;
  /**
   * Test-time augmentation of the held-out predictions: `hflip` averages each map with the map of the
   * left-right mirrored input (mirrored back). Measured before an ensemble with flips may ship.
   */
  tta?: HeldOutTta;
  log?: (line: string) => void;
  /** Each fold's training progress (steps, loss, epoch records), named by the held-out patient. */
  onProgress?: (patient: string, p: TrainProgress) => void;
}

export interface FoldResult {
  patient: string;
  trainSlices: number;
  testSlices: number;
  seconds: number;
  /** Score of this patient alone with plain 0.5 thresholding. */
  untuned: Score;
}

/** A whole-scan setting chosen per patient on the other patients (nested), and its choice on all. */
export interface ChosenSetting {
  report: WholeScanReport;
  chosen: Record<string, string>;
  setting: ScanSetting;
}

export interface CrossvalReport {
  folds: FoldResult[];
  /** All held-out slices with plain 0.5 thresholding, no gate. */
  untuned: Score;
  /** All held-out slices, each patient post-processed with settings tuned on the other patients. */
  tuned: Score;
  /** Post-processing tuned on every fold's held-out predictions (what a final model's card should carry). */
  postprocess: Record<Organ, OrganPostprocess>;
  /**
   * With whole scans: the competition score and Dice per organ on each held-out scan, post-processed as
   * `segment` does — plain 0.5, tuned (nested), and tuned with the position prior (nested).
   */
  scans?: {
    plain: WholeScanReport;
    tuned: WholeScanReport;
    tunedWithPrior?: WholeScanReport;
    plainWithPrior?: WholeScanReport;
    /** The prior's threshold tuned on all patients, on top of tuned post-processing (what a card carries). */
    minPrior?: number;
    /** The same on top of plain 0.5 thresholding. */
    plainMinPrior?: number;
    /**
     * One threshold for all organs (no gate) and the prior's threshold, chosen together by the whole-scan
     * competition score of the other patients (nested); `setting` is the choice on all patients.
     */
    thresholdByScore?: ChosenSetting;
    /** The same search with the stomach's 3-D cleanup (`minVolumeShare`) chosen with the threshold and prior. */
    volumeByScore?: ChosenSetting;
    /** The same search with an empty-organ gate by area (`gateMinMm2`) chosen with the threshold and prior. */
    gateByScore?: ChosenSetting;
  };
  steps: number;
  /** Wall-clock seconds of all folds (training and prediction), also those read back. */
  seconds: number;
  backend: string;
}

/** Each slice of each scan as its own one-slice scan (same slice ids, so masks still match). */
export function isolateSlices(dataset: Dataset): Dataset {
  const split = (scan: Scan): Scan[] =>
    scan.slices.map((info, index) => ({
      ...scan,
      id: `${scan.id}#${info.number}`,
      slices: [info],
      readSlice: async (i: number) => {
        if (i !== 0) throw new RangeError(`one-slice scan ${scan.id}#${info.number} has no slice ${i}`);
        return scan.readSlice(index);
      },
    }));
  return {
    ...dataset,
    patients: dataset.patients.map((p) => ({
      ...p,
      studies: p.studies.map((s) => ({ ...s, scans: s.scans.flatMap(split) })),
    })),
  };
}

interface ModelRecipe {
  architecture: ArchSpec;
  inputSize: InputSize;
  sliceStride: number;
  spacingMm?: number;
  normalisation: NormalisationSpec;
  card: ModelCard | null;
}

async function freshModel(
  job: CrossvalJob,
  patient: string,
): Promise<{ model: tfl.LayersModel; recipe: ModelRecipe }> {
  if (job.init) {
    const { model, card } = await loadModel(job.init);
    return {
      model,
      recipe: {
        architecture: card.architecture,
        inputSize: card.input.size,
        sliceStride: card.input.sliceStride,
        ...(card.input.spacingMm ? { spacingMm: card.input.spacingMm } : {}),
        normalisation: card.input.normalisation,
        card,
      },
    };
  }
  const architecture = archSpecByName(job.arch ?? 'unet-small');
  const size = job.inputSize ?? 128;
  const model = buildModel(architecture, size, job.seed);
  if (job.initFolds) await loadFoldWeights(model, job.initFolds, patient);
  return {
    model,
    recipe: {
      architecture,
      inputSize: { height: size, width: size },
      sliceStride: job.sliceStride ?? 0,
      ...(job.spacingMm ? { spacingMm: job.spacingMm } : {}),
      normalisation: DEFAULT_NORMALISATION,
      card: null,
    },
  };
}

/** The weights an earlier run's fold for `patient` kept, into `model` (same architecture and size). */
async function loadFoldWeights(model: tfl.LayersModel, runDir: string, patient: string): Promise<void> {
  const dir = path.join(runDir, `fold-${patient}`, CHECKPOINT_DIR);
  const file = path.join(dir, 'best.json');
  if (!existsSync(file)) {
    throw new InputError(file, `missing: ${runDir} has no trained fold for patient ${patient}`);
  }
  const saved = await loadTensors(dir, 'best');
  try {
    const expected = model.getWeights().map((w) => w.shape.join('×'));
    const found = saved.map((t) => t.tensor.shape.join('×'));
    if (expected.join() !== found.join()) {
      throw new InputError(
        file,
        `weights do not fit this architecture (${found.length} tensors saved, ${expected.length} expected, or other shapes)`,
      );
    }
    model.setWeights(saved.map((t) => t.tensor));
  } finally {
    tf.dispose(saved.map((t) => t.tensor));
  }
}

export type HeldOutTta = 'none' | 'hflip';

/** The model's maps of `x` (NHWC), with `hflip`: averaged with the maps of the mirrored input, mirrored back. */
export function predictWithTta(model: tfl.LayersModel, x: tf.Tensor4D, tta: HeldOutTta): tf.Tensor {
  return tf.tidy(() => {
    const y = model.predict(x) as tf.Tensor;
    if (tta === 'none') return y;
    // Axis 2 of NHWC is the image's width.
    const mirrored = tf.reverse(model.predict(tf.reverse(x, 2)) as tf.Tensor, 2);
    return tf.div(tf.add(y, mirrored), 2);
  });
}

/** Probability maps of `slices` at their native size, with their truth. */
export async function predictHeldOut(
  model: tfl.LayersModel,
  builder: SampleBuilder,
  slices: readonly LabelledSlice[],
  input: InputSize,
  spacingMm?: number,
  tta: HeldOutTta = 'none',
): Promise<HeldOutSlice[]> {
  const out: HeldOutSlice[] = [];
  const { height, width } = input;
  for (const s of slices) {
    const sample = await builder.sample(s);
    const probs = tf.tidy(() =>
      predictWithTta(model, tf.tensor4d(sample.image.data, [1, height, width, 3]), tta),
    );
    const data = (await probs.data()) as Float32Array;
    probs.dispose();
    const info = s.scan.slices[s.index]!;
    const t = inputTransform(info.width, info.height, input, s.scan.pixelSpacing, spacingMm);
    const organs = Object.fromEntries(
      ORGANS.map((o, c) => {
        const m = s.masks[o];
        const truth = m && m.data.some((v) => v !== 0) ? m.data : undefined;
        return [o, { width: info.width, height: info.height, prob: unletterbox(data, t, c, 3), truth }];
      }),
    ) as HeldOutSlice['organs'];
    out.push({ sliceId: s.sliceId, patientId: s.patientId, organs });
  }
  return out;
}

export async function crossValidate(job: CrossvalJob): Promise<CrossvalReport> {
  const log = job.log ?? (() => {});
  const backend = await initBackend(job.backend ?? 'auto', log);
  const real = labelledSlices(job.isolateSlices === false ? job.dataset : isolateSlices(job.dataset));
  if (real.length === 0) throw new InputError(job.dataset.root, 'holds no labelled slices to validate on');
  const extra = job.extra ? labelledSlices(job.extra) : [];
  const patients = [...new Set(real.map((s) => s.patientId))];
  if (patients.length < 2) {
    throw new InputError(
      job.dataset.root,
      `has ${patients.length} patient; cross-validation needs at least 2`,
    );
  }
  if (job.initFolds && path.resolve(job.initFolds) === path.resolve(job.workDir)) {
    throw new InputError(job.workDir, 'cannot start folds from the run being written (choose another --out)');
  }
  if (job.initFolds && job.init)
    throw new InputError(job.initFolds, 'give either an init model or init folds');
  const folds = job.folds ?? patients;
  for (const f of folds) {
    if (!patients.includes(f)) throw new InputError(job.dataset.root, `has no patient "${f}" to hold out`);
  }
  const heldOut: HeldOutSlice[] = [];
  const results: FoldResult[] = [];
  for (const patient of folds) {
    const t0 = Date.now();
    const foldDir = path.join(job.workDir, `fold-${patient}`);
    const test = real.filter((s) => s.patientId === patient);
    const trainReal = real.filter((s) => s.patientId !== patient);
    // A fold finished earlier (or by a parallel run with --folds) is read back instead of retrained.
    const saved = await readHeldOut(foldDir);
    if (saved) {
      heldOut.push(...saved.slices);
      results.push(saved.fold);
      log(`fold ${patient}: read back from ${foldDir}`);
      continue;
    }
    const { model, recipe } = await freshModel(job, patient);
    const builder = new SampleBuilder({
      input: recipe.inputSize,
      sliceStride: recipe.sliceStride,
      normalisation: recipe.normalisation,
      ...(recipe.spacingMm ? { spacingMm: recipe.spacingMm } : {}),
    });
    const foldExtra = withoutDerivedFrom(extra, job.extraDerivedFrom, [patient]);
    if (foldExtra.length < extra.length) {
      log(
        `fold ${patient}: ${extra.length - foldExtra.length} extra slices made from ${patient}'s data left out`,
      );
    }
    const train = [...oversample(trainReal, foldExtra.length, job.realShare ?? 0.5), ...foldExtra];
    if (job.epochs > 0) {
      const trained = await runTraining(
        model,
        { train, val: [], builder },
        {
          ...DEFAULT_LOOP,
          epochs: job.epochs,
          stepsPerEpoch: job.stepsPerEpoch,
          batchSize: job.batchSize,
          learningRate: job.learningRate,
          ...(job.lrSchedule ? { lrSchedule: job.lrSchedule } : {}),
          ...(job.keep ? { keep: job.keep } : {}),
          seed: job.seed,
          augment: job.augment === undefined ? HEAVY_AUGMENT : job.augment,
          earlyStopPatience: Number.MAX_SAFE_INTEGER,
          outDir: foldDir,
          // A fold stopped part-way (session end, Ctrl+C) continues from its last epoch.
          resume: existsSync(path.join(foldDir, CHECKPOINT_DIR, 'state.json')),
          workers: job.workers ?? 0,
          backend: backend.name,
          log,
          ...(job.onProgress ? { onProgress: (p: TrainProgress) => job.onProgress!(patient, p) } : {}),
        },
      );
      log(
        `fold ${patient}: trained on ${train.length} slices (${trained.workers ? `${trained.workers} worker threads` : 'this thread'})`,
      );
    }
    const predictions = await predictHeldOut(
      model,
      builder,
      test,
      recipe.inputSize,
      recipe.spacingMm,
      job.tta,
    );
    model.dispose();
    heldOut.push(...predictions);
    if (job.overlays) await writeOverlays(path.join(job.workDir, 'overlays'), predictions, test);
    const fold: FoldResult = {
      patient,
      trainSlices: trainReal.length,
      testSlices: test.length,
      seconds: (Date.now() - t0) / 1000,
      untuned: new HeldOutSet(predictions).score(plain()),
    };
    results.push(fold);
    await writeHeldOut(foldDir, fold, predictions);
    log(
      `fold ${patient}: ${fold.testSlices} slices, Dice ` +
        ORGANS.map((o) => `${o} ${fmt(fold.untuned.organs[o].dice)}`).join(' ') +
        ` (${fold.seconds.toFixed(0)} s)`,
    );
  }
  const all = new HeldOutSet(heldOut);
  const nested = all.nestedScore();
  const report: CrossvalReport = {
    folds: results,
    untuned: all.score(plain()),
    tuned: nested.score,
    postprocess: all.tune(),
    ...(job.isolateSlices === false
      ? { scans: wholeScanScores(heldOut, real, (p) => nested.settings[p]!, job.slicePrior) }
      : {}),
    steps: job.epochs * job.stepsPerEpoch,
    seconds: results.reduce((sum, f) => sum + f.seconds, 0),
    backend: backend.name,
  };
  await writeJsonAtomic(path.join(job.workDir, 'crossval.json'), report, true);
  return report;
}

function wholeScanScores(
  heldOut: readonly HeldOutSlice[],
  real: readonly LabelledSlice[],
  tunedFor: PostprocessFor,
  prior: SlicePrior | undefined,
): NonNullable<CrossvalReport['scans']> {
  const places = new Map(real.map((s) => [s.sliceId, { scan: s.scan, index: s.index }]));
  const placeOf = (id: string) => places.get(id);
  const withPrior = prior ? scoreWithSlicePrior(heldOut, placeOf, tunedFor, prior) : null;
  const plainPrior = prior ? scoreWithSlicePrior(heldOut, placeOf, () => plain(), prior) : null;
  const chooseBy = (candidates: ScanSetting[]): ChosenSetting => {
    const r = scoreNestedChoice(heldOut, placeOf, candidates, prior ?? null);
    return { report: r.report, chosen: r.chosen, setting: r.best };
  };
  return {
    plain: scoreHeldOutScans(heldOut, placeOf, () => plain()),
    tuned: scoreHeldOutScans(heldOut, placeOf, tunedFor),
    ...(withPrior ? { tunedWithPrior: withPrior.report, minPrior: withPrior.minPrior } : {}),
    ...(plainPrior ? { plainWithPrior: plainPrior.report, plainMinPrior: plainPrior.minPrior } : {}),
    thresholdByScore: chooseBy(scanCandidates(prior, [0.3, 0.4, 0.5, 0.6, 0.7], [0])),
    volumeByScore: chooseBy(scanCandidates(prior, [0.5, 0.6, 0.7], STOMACH_SHARES)),
    gateByScore: chooseBy(scanCandidates(prior, [0.5, 0.6, 0.7], [0], GATE_MM2)),
  };
}

/**
 * 3-D cleanup shares tried for the stomach (see volume-components.ts): none, bodies of ≥ 30 % of the
 * largest, the largest only. The stomach is one body; bowel loops are many, and on K's held-out scans a
 * search over bowel shares too (108 candidates) chose differently for every patient and scored below no
 * cleanup (0.751 against 0.756): too many choices for three patients.
 */
const STOMACH_SHARES = [0, 0.3, 1];

/**
 * Empty-organ gates tried, in mm² of the organ's pixels on a slice (none, ≈ 44, 89 and 178 pixels at 1.5 mm):
 * of M's held-out slice-organ pairs, 92 of 414 were predicted where no organ was outlined, each a lost Dice
 * point, and many of those masks are small. Capped at 4 cm² on purpose: a gate drops true sections too, and
 * an organ small on every slice (a collapsed stomach) would vanish from the scan; on the M + R ensemble's
 * maps an 800 mm² gate did that to case146's stomach (0.807 → 0.649). M chose 800–1,600 when allowed
 * (0.819), 400 under this cap (0.821).
 */
const GATE_MM2 = [0, 100, 200, 400];

/**
 * One threshold for all organs (no in-plane component removal) × prior thresholds (0 only without a prior)
 * × the stomach's 3-D cleanup shares × empty-organ gates by area (the same for every organ).
 */
function scanCandidates(
  prior: SlicePrior | undefined,
  thresholds: readonly number[],
  stomachShares: readonly number[],
  gatesMm2: readonly number[] = [0],
): ScanSetting[] {
  const out: ScanSetting[] = [];
  for (const threshold of thresholds) {
    for (const minPrior of prior ? [0, 0.01, 0.02, 0.05] : [0]) {
      for (const share of stomachShares) {
        for (const gate of gatesMm2) {
          const p: OrganPostprocess = {
            ...BASE_POSTPROCESS,
            threshold,
            gateThreshold: threshold,
            ...(gate > 0 ? { gateMinMm2: gate } : {}),
          };
          const volume = stomachShares.length > 1 ? `, 3-D stomach ≥ ${share}` : '';
          const gated = gatesMm2.length > 1 ? `, gate ≥ ${gate} mm²` : '';
          out.push({
            label: `threshold ${threshold}${prior ? `, prior ≥ ${minPrior}` : ''}${volume}${gated}`,
            post: {
              large_bowel: p,
              small_bowel: p,
              stomach: share > 0 ? { ...p, minVolumeShare: share } : p,
            },
            minPrior,
          });
        }
      }
    }
  }
  return out;
}

const HELD_OUT_JSON = 'heldout.json';
const HELD_OUT_BIN = 'heldout.bin';

/** A fold's result and held-out probability maps (float32, slice by slice, organ by organ). */
export async function writeHeldOut(dir: string, fold: FoldResult, slices: HeldOutSlice[]): Promise<void> {
  const parts: Buffer[] = [];
  const meta = slices.map((s) => ({
    sliceId: s.sliceId,
    patientId: s.patientId,
    organs: ORGANS.map((o) => {
      const p = s.organs[o];
      parts.push(Buffer.from(p.prob.buffer, p.prob.byteOffset, p.prob.byteLength));
      if (p.truth) parts.push(Buffer.from(p.truth.buffer, p.truth.byteOffset, p.truth.byteLength));
      return { width: p.width, height: p.height, truth: Boolean(p.truth) };
    }),
  }));
  await writeFileAtomic(path.join(dir, HELD_OUT_BIN), Buffer.concat(parts));
  await writeJsonAtomic(path.join(dir, HELD_OUT_JSON), { fold, slices: meta }, true);
}

export async function readHeldOut(dir: string): Promise<{ fold: FoldResult; slices: HeldOutSlice[] } | null> {
  if (!existsSync(path.join(dir, HELD_OUT_JSON))) return null;
  const { fold, slices: meta } = (await readJsonOrExplain(path.join(dir, HELD_OUT_JSON))) as {
    fold: FoldResult;
    slices: Array<{
      sliceId: string;
      patientId: string;
      organs: Array<{ width: number; height: number; truth: boolean }>;
    }>;
  };
  const bytes = await readFileOrExplain(path.join(dir, HELD_OUT_BIN));
  let at = 0;
  const take = (n: number): Uint8Array => {
    if (at + n > bytes.length)
      throw new InputError(path.join(dir, HELD_OUT_BIN), 'is shorter than its heldout.json says');
    const out = new Uint8Array(n);
    out.set(bytes.subarray(at, at + n));
    at += n;
    return out;
  };
  const slices = meta.map((m) => ({
    sliceId: m.sliceId,
    patientId: m.patientId,
    organs: Object.fromEntries(
      ORGANS.map((o, c) => {
        const { width, height, truth } = m.organs[c]!;
        const prob = new Float32Array(take(width * height * 4).buffer);
        return [o, { width, height, prob, truth: truth ? take(width * height) : undefined }];
      }),
    ) as HeldOutSlice['organs'],
  }));
  return { fold, slices };
}

export function plain(): Record<Organ, OrganPostprocess> {
  return { large_bowel: BASE_POSTPROCESS, small_bowel: BASE_POSTPROCESS, stomach: BASE_POSTPROCESS };
}

function fmt(v: number | null): string {
  return v === null ? '–' : v.toFixed(3);
}

/** Organ colours of the site sample's masks: yellow large bowel, green small bowel, red stomach. */
const COLOURS: Record<Organ, [number, number, number]> = {
  large_bowel: [255, 220, 0],
  small_bowel: [0, 200, 0],
  stomach: [255, 40, 40],
};

/**
 * One PNG per held-out slice, side by side: the truth (left) and the 0.5-threshold prediction (right),
 * each organ tinted over the slice's centre channel as the network saw it (letterboxed).
 */
async function writeOverlays(dir: string, predictions: HeldOutSlice[], slices: LabelledSlice[]) {
  for (let k = 0; k < predictions.length; k++) {
    const p = predictions[k]!;
    const s = slices[k]!;
    const image = await s.scan.readSlice(s.index);
    const { width: w, height: h } = image;
    let max = 1;
    for (let i = 0; i < image.data.length; i++) max = Math.max(max, image.data[i]!);
    const rgb = new Uint8Array(w * 2 * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const g = Math.round((image.data[y * w + x]! / max) * 255);
        for (const side of [0, 1]) {
          const o = (y * w * 2 + side * w + x) * 3;
          let [r, gg, b] = [g, g, g];
          for (const organ of ORGANS) {
            const pr = p.organs[organ];
            const on = side === 0 ? pr.truth?.[y * w + x] : pr.prob[y * w + x]! > 0.5 ? 1 : 0;
            if (on) {
              const c = COLOURS[organ];
              r = (r + c[0]) >> 1;
              gg = (gg + c[1]) >> 1;
              b = (b + c[2]) >> 1;
            }
          }
          rgb[o] = r;
          rgb[o + 1] = gg;
          rgb[o + 2] = b;
        }
      }
    }
    await writePngRgb(path.join(dir, `${p.sliceId}.png`), rgb, w * 2, h);
  }
}
