/**
 * Materialise synthetic data as a UW-Madison / Kaggle dataset folder (16-bit PNG slices + train.csv),
 * so `tractus train --data DIR`, the importers and the app read it like the real dataset.
 * Output is a pure function of the options: same seed → byte-identical files.
 */
import path from 'node:path';
import { InputError } from '../core/errors';
import { writeUwmgiSlice } from '../imaging/uwmgi';
import { writeJsonAtomic } from '../io/files';
import { createRng } from '../model/augment/random';
import { allScans, sliceHasOrgan, type Dataset } from '../core/types';
import type { LabelScan, LabelScanSelection } from './label-scans';
import { generatePhantomScan } from './phantom';
import { prepareSynthSegScan, renderSynthSegSlice, type SynthSegOptions } from './synthseg';
import {
  organBand,
  targetOnSourceGrid,
  transplantPlan,
  transplantSlice,
  type TransplantSource,
} from './transplant';
import type { RegisterOptions } from './register';
import { TrainCsvWriter } from './uw-layout';

/** Synthetic case numbers are far from the real UW-Madison ones (1–156) so the two never mix up. */
export const PHANTOM_CASE_BASE = 9000;
export const SYNTHSEG_CASE_BASE = 8000;
export const TRANSPLANT_CASE_BASE = 7000;

export type Progress = (done: number, total: number) => void;

/** A 32-bit seed derived from a parent seed and indices (a hash, so streams do not overlap). */
export function deriveSeed(seed: number, ...indices: number[]): number {
  let h = seed >>> 0 || 0x9e3779b9;
  for (const i of indices) {
    h = Math.imul(h ^ (i + 0x7f4a7c15), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

export interface PhantomDatasetOptions {
  cases: number;
  days: number;
  slices: number;
  /** Slice width and height in pixels. */
  size: number;
  seed: number;
  onProgress?: Progress;
}

export interface WrittenDataset {
  root: string;
  scans: string[];
  slices: number;
}

/** Treatment days of a synthetic patient: day0, day7, day14, … */
function dayNumber(d: number): number {
  return d * 7;
}

export async function writeSyntheticKaggleDataset(
  root: string,
  opts: PhantomDatasetOptions,
): Promise<WrittenDataset> {
  const csv = new TrainCsvWriter();
  const scans: string[] = [];
  const total = opts.cases * opts.days * opts.slices;
  let done = 0;
  for (let c = 0; c < opts.cases; c++) {
    const patientSeed = deriveSeed(opts.seed, c);
    for (let d = 0; d < opts.days; d++) {
      const scanId = `case${PHANTOM_CASE_BASE + c + 1}_day${dayNumber(d)}`;
      const scan = generatePhantomScan(
        deriveSeed(opts.seed, c, d + 1),
        { slices: opts.slices, width: opts.size, height: opts.size },
        { seed: patientSeed },
      );
      for (let i = 0; i < opts.slices; i++) {
        await writeUwmgiSlice(root, scanId, i + 1, scan.images[i]!, [scan.pixelMm, scan.pixelMm]);
        csv.add(scanId, i + 1, scan.masks[i]!);
        done++;
        opts.onProgress?.(done, total);
      }
      scans.push(scanId);
    }
  }
  await csv.write(root);
  await writeJsonAtomic(
    path.join(root, 'synth.json'),
    {
      generator: 'tractus synth phantom',
      synthetic: true,
      options: { ...opts, onProgress: undefined },
      scans,
    },
    true,
  );
  return { root, scans, slices: done };
}

export interface SynthSegDatasetOptions extends SynthSegOptions {
  /** Synthetic scans to write; each renders one real label scan (cycling through them) in full. */
  samples: number;
  seed: number;
  /** Organ-free slices written above and below the labelled range, for 2.5D neighbours. Default 2. */
  margin?: number;
  /** Where the label maps came from (recorded in synth.json). */
  source?: string;
  /** How the scans were chosen from the source, if not all were used (recorded in synth.json). */
  selection?: LabelScanSelection;
  onProgress?: Progress;
}

/**
 * One synthetic scan per sample, `case{8000+N}_day{D + 100·variant}` for real scan caseN_dayD, so a
 * patient-wise split keeps every rendering of one real patient on the same side.
 */
export async function writeSynthSegDataset(
  labels: readonly LabelScan[],
  root: string,
  opts: SynthSegDatasetOptions,
): Promise<WrittenDataset> {
  if (labels.length === 0) throw new RangeError('writeSynthSegDataset: no label scans');
  const margin = opts.margin ?? 2;
  const plan = Array.from({ length: opts.samples }, (_, k) => labels[k % labels.length]!);
  const total = plan.reduce((s, l) => s + sliceRange(l, margin).length, 0);
  const csv = new TrainCsvWriter();
  const scans: string[] = [];
  let done = 0;
  for (let k = 0; k < plan.length; k++) {
    const label = plan[k]!;
    const variant = Math.floor(k / labels.length);
    const [caseNo, dayNo] = label.scanId.match(/\d+/g)!.map(Number) as [number, number];
    const scanId = `case${SYNTHSEG_CASE_BASE + caseNo}_day${dayNo + 100 * variant}`;
    const seed = deriveSeed(opts.seed, k);
    const scan = prepareSynthSegScan(label, seed, opts);
    const noise = createRng(deriveSeed(seed, 1));
    for (const n of sliceRange(label, margin)) {
      const { image, masks } = renderSynthSegSlice(scan, n, noise);
      await writeUwmgiSlice(root, scanId, n, image, [scan.grid.pixelMm, scan.grid.pixelMm]);
      csv.add(scanId, n, masks);
      done++;
      opts.onProgress?.(done, total);
    }
    scans.push(scanId);
  }
  await csv.write(root);
  const { onProgress: _p, ...options } = opts;
  await writeJsonAtomic(
    path.join(root, 'synth.json'),
    { generator: 'tractus synth synthseg', synthetic: true, options, scans },
    true,
  );
  return { root, scans, slices: done };
}

/**
 * Slice numbers from `margin` before the first slice with an organ to `margin` after the last (≥ 1). A full
 * mask CSV (train_masks.csv) lists every slice of a scan; the organ-free ones outside the band are not rendered.
 */
function sliceRange(label: LabelScan, margin: number): number[] {
  const [bandFirst, bandLast] = organBand(label.numbers, (n) => sliceHasOrgan(label.slices.get(n)));
  const first = Math.max(1, bandFirst - margin);
  const last = bandLast + margin;
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

export interface TransplantSourceSelection {
  /** Patients whose images may not be used (every validation and test patient). */
  exclude?: readonly string[];
  /** Scans with fewer slices are not used: a transplanted scan needs real neighbours. Default 20. */
  minSlices?: number;
}

/**
 * The real scans of `dataset` (with ground truth, square pixels) a transplant may deform, read into
 * memory; isolated slices, scans without any organ outlined and excluded patients are left out.
 */
export async function loadTransplantSources(
  dataset: Dataset,
  sel: TransplantSourceSelection = {},
): Promise<TransplantSource[]> {
  const excluded = new Set(sel.exclude ?? []);
  const out: TransplantSource[] = [];
  for (const scan of allScans(dataset)) {
    if (excluded.has(scan.patientId) || scan.slices.length < (sel.minSlices ?? 20)) continue;
    // without ground truth its organs would be written as background: wrong labels, not missing ones
    if (!scan.slices.some((sl) => sliceHasOrgan(dataset.masks.get(sl.id)))) continue;
    const [row, col] = scan.pixelSpacing ?? [NaN, NaN];
    if (!(row > 0 && Math.abs(row - col) < 1e-6)) {
      throw new InputError(dataset.root, `${scan.id} has no square pixel spacing; a transplant needs one`);
    }
    const slices: TransplantSource['slices'] = new Map();
    for (let i = 0; i < scan.slices.length; i++) {
      const info = scan.slices[i]!;
      slices.set(info.number, { image: await scan.readSlice(i), masks: dataset.masks.get(info.id) ?? {} });
    }
    out.push({
      scanId: scan.id,
      patientId: scan.patientId,
      width: scan.width,
      height: scan.height,
      pixelMm: row,
      slices,
      numbers: [...slices.keys()].sort((a, b) => a - b),
    });
  }
  return out;
}

export interface TransplantDatasetOptions {
  /** Transplanted scans to write: label scan k (cycling) onto source k (cycling, shifted each round). */
  samples: number;
  /** Organ-free slices written above and below the target's organ band. Default 2. */
  margin?: number;
  register?: RegisterOptions;
  /** Where the images and label maps came from (recorded in synth.json). */
  source?: {
    images: string;
    labels: string;
    exclude?: readonly string[];
    excludeLabels?: readonly string[];
    perPatient?: number;
  };
  onProgress?: Progress;
}

export interface WrittenTransplantDataset extends WrittenDataset {
  /** Mean Dice of the source's organs against the target's, before and after registration. */
  diceBefore: number;
  diceAfter: number;
}

/**
 * Transplanted scans in the UW-Madison layout: `case{7000+N}_day{D + 100·variant}` for label scan
 * caseN_dayD, each a real source scan deformed slice by slice onto that scan's label maps; synth.json
 * records which source each came from and how well the shapes matched.
 */
export async function writeTransplantDataset(
  sources: readonly TransplantSource[],
  labels: readonly LabelScan[],
  root: string,
  opts: TransplantDatasetOptions,
): Promise<WrittenTransplantDataset> {
  if (sources.length === 0) throw new RangeError('writeTransplantDataset: no source scans');
  if (labels.length === 0) throw new RangeError('writeTransplantDataset: no label scans');
  const margin = opts.margin ?? 2;
  const plan = Array.from({ length: opts.samples }, (_, k) => {
    const round = Math.floor(k / labels.length);
    return {
      label: labels[k % labels.length]!,
      source: sources[(k + round) % sources.length]!,
      variant: round,
    };
  });
  const total = plan.reduce((s, p) => s + sliceRange(p.label, margin).length, 0);
  const csv = new TrainCsvWriter();
  const scans: Array<{
    scanId: string;
    source: string;
    label: string;
    diceBefore: number;
    diceAfter: number;
  }> = [];
  let done = 0;
  let before = 0;
  let after = 0;
  let matched = 0;
  for (const { label, source, variant } of plan) {
    const [caseNo, dayNo] = label.scanId.match(/\d+/g)!.map(Number) as [number, number];
    const scanId = `case${TRANSPLANT_CASE_BASE + caseNo}_day${dayNo + 100 * variant}`;
    let scanBefore = 0;
    let scanAfter = 0;
    let scanMatched = 0;
    for (const { number, sourceNumber } of transplantPlan(source, label, sliceRange(label, margin))) {
      const t = transplantSlice(
        source.slices.get(sourceNumber)!,
        targetOnSourceGrid(label, number, source),
        opts.register,
      );
      await writeUwmgiSlice(root, scanId, number, t.image, [source.pixelMm, source.pixelMm]);
      csv.add(scanId, number, t.masks);
      if (t.diceBefore !== null && t.diceAfter !== null) {
        scanBefore += t.diceBefore;
        scanAfter += t.diceAfter;
        scanMatched++;
      }
      done++;
      opts.onProgress?.(done, total);
    }
    before += scanBefore;
    after += scanAfter;
    matched += scanMatched;
    const round = (x: number): number => Math.round(x * 1000) / 1000;
    scans.push({
      scanId,
      source: source.scanId,
      label: label.scanId,
      diceBefore: round(scanMatched ? scanBefore / scanMatched : 0),
      diceAfter: round(scanMatched ? scanAfter / scanMatched : 0),
    });
  }
  await csv.write(root);
  const { onProgress: _p, ...options } = opts;
  const diceBefore = matched ? before / matched : 0;
  const diceAfter = matched ? after / matched : 0;
  await writeJsonAtomic(
    path.join(root, 'synth.json'),
    { generator: 'tractus synth transplant', synthetic: true, options, diceBefore, diceAfter, scans },
    true,
  );
  return { root, scans: scans.map((s) => s.scanId), slices: done, diceBefore, diceAfter };
}
