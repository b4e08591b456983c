/**
 * Transplanted training images: a REAL scan's slices deformed so that its organs take the shapes of
 * another patient's REAL label maps (the 35,072 masks without images). Texture, noise and contrast stay
 * those of a real scan; the organ shapes and positions come from many more patients. The label written
 * with each image is the source's own masks deformed by the same field, so image and label always agree,
 * however well the registration did; how close they came to the target shapes is reported (Dice).
 *
 * Along the scan, the target's organ band (first to last slice with an organ) is mapped linearly onto
 * the source's, so slice i of the target borrows the source slice at the same relative height; the
 * written scan keeps the target's slice numbers, so 2.5D neighbours are neighbouring transplants.
 */
import { ORGANS, type Organ } from '../core/organs';
import { sliceHasOrgan, type SliceImage, type SliceMasks } from '../core/types';
import { diceOf, overlapCounts } from '../metrics/dice';
import { warpBilinear, warpNearest } from './fields';
import type { LabelScan } from './label-scans';
import { registerMasks, type RegisterOptions } from './register';

/** A real scan held in memory: its slices with their ground truth. */
export interface TransplantSource {
  scanId: string;
  patientId: string;
  width: number;
  height: number;
  /** mm per pixel (square pixels). */
  pixelMm: number;
  /** Slice number → image and organ masks; ascending `numbers`. */
  slices: Map<number, { image: SliceImage; masks: SliceMasks }>;
  numbers: number[];
}

/**
 * mm per pixel of a UW-Madison label map from its size: every scan of the dataset is 1.50 mm except the
 * 276×276 ones, 1.63 mm (as the Kaggle slice file names say: slice_NNNN_276_276_1.63_1.63.png).
 */
export function uwmgiPixelMm(width: number, height: number): number {
  return width === 276 && height === 276 ? 1.63 : 1.5;
}

/** First and last slice numbers with an organ (all numbers when none has one). */
export function organBand(numbers: readonly number[], hasOrgan: (n: number) => boolean): [number, number] {
  const withOrgan = numbers.filter(hasOrgan);
  const use = withOrgan.length > 0 ? withOrgan : numbers;
  if (use.length === 0) throw new RangeError('organBand: no slices');
  return [use[0]!, use[use.length - 1]!];
}

/** The source slice number at the same relative height of the organ band (nearest existing slice). */
export function sourceSliceFor(
  n: number,
  target: [number, number],
  source: [number, number],
  sourceNumbers: readonly number[],
): number {
  const t = target[1] > target[0] ? (n - target[0]) / (target[1] - target[0]) : 0.5;
  const want = source[0] + t * (source[1] - source[0]);
  let best = sourceNumbers[0]!;
  for (const s of sourceNumbers) if (Math.abs(s - want) < Math.abs(best - want)) best = s;
  return best;
}

/**
 * A label map moved onto another pixel grid of the same body: centres aligned, scaled by the ratio of
 * pixel sizes (nearest neighbour, as labels must be); parts outside the new grid are cut off.
 */
export function maskOnGrid(
  data: Uint8Array,
  from: { width: number; height: number; pixelMm: number },
  to: { width: number; height: number; pixelMm: number },
): Uint8Array {
  const out = new Uint8Array(to.width * to.height);
  const scale = to.pixelMm / from.pixelMm;
  for (let y = 0; y < to.height; y++) {
    const sy = Math.floor((y + 0.5 - to.height / 2) * scale + from.height / 2);
    if (sy < 0 || sy >= from.height) continue;
    for (let x = 0; x < to.width; x++) {
      const sx = Math.floor((x + 0.5 - to.width / 2) * scale + from.width / 2);
      if (sx >= 0 && sx < from.width) out[y * to.width + x] = data[sy * from.width + sx]!;
    }
  }
  return out;
}

export interface TransplantedSlice {
  image: SliceImage;
  masks: SliceMasks;
  /** Mean Dice over the organs either side has, of the source's masks against the target's, before and after. */
  diceBefore: number | null;
  diceAfter: number | null;
}

/** One source slice deformed onto target organ masks already on the source's grid. */
export function transplantSlice(
  source: { image: SliceImage; masks: SliceMasks },
  target: Partial<Record<Organ, Uint8Array>>,
  opts: RegisterOptions = {},
): TransplantedSlice {
  const { width, height } = source.image;
  const empty = new Uint8Array(width * height);
  const moving = ORGANS.map((o) => source.masks[o]?.data ?? empty);
  const fixed = ORGANS.map((o) => target[o] ?? empty);
  const field = registerMasks(moving, fixed, width, height, opts);
  const warped = warpBilinear(Float32Array.from(source.image.data), field);
  const image: SliceImage = {
    width,
    height,
    data:
      source.image.data instanceof Uint8Array
        ? new Uint8Array(width * height)
        : new Uint16Array(width * height),
  };
  const top = source.image.data instanceof Uint8Array ? 255 : 65535;
  for (let i = 0; i < warped.length; i++) image.data[i] = Math.min(top, Math.max(0, Math.round(warped[i]!)));
  const masks: SliceMasks = {};
  const before: number[] = [];
  const after: number[] = [];
  ORGANS.forEach((o, k) => {
    const m = source.masks[o];
    const w = m ? warpNearest(m.data, field) : empty;
    if (m && w.some((v) => v !== 0)) masks[o] = { width, height, data: w };
    const b = diceOf(overlapCounts(moving[k], fixed[k]));
    const a = diceOf(overlapCounts(w, fixed[k]));
    if (b !== null) before.push(b);
    if (a !== null) after.push(a);
  });
  const mean = (xs: number[]): number | null =>
    xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null;
  return { image, masks, diceBefore: mean(before), diceAfter: mean(after) };
}

/** Each slice of one transplanted scan: the target's slice numbers, the source slice each borrows. */
export function transplantPlan(
  source: TransplantSource,
  label: LabelScan,
  numbers: readonly number[],
): Array<{ number: number; sourceNumber: number }> {
  const targetBand = organBand(label.numbers, (n) => sliceHasOrgan(label.slices.get(n)));
  const sourceBand = organBand(source.numbers, (n) => sliceHasOrgan(source.slices.get(n)?.masks));
  return numbers.map((n) => ({
    number: n,
    sourceNumber: sourceSliceFor(n, targetBand, sourceBand, source.numbers),
  }));
}

/** The target slice's organ masks on the source's grid (organs absent from the label map are absent). */
export function targetOnSourceGrid(
  label: LabelScan,
  n: number,
  source: TransplantSource,
  labelPixelMm = uwmgiPixelMm(label.width, label.height),
): Partial<Record<Organ, Uint8Array>> {
  const masks = label.slices.get(n);
  const out: Partial<Record<Organ, Uint8Array>> = {};
  for (const o of ORGANS) {
    const m = masks?.[o];
    if (!m) continue;
    out[o] = maskOnGrid(
      m.data,
      { width: label.width, height: label.height, pixelMm: labelPixelMm },
      { width: source.width, height: source.height, pixelMm: source.pixelMm },
    );
  }
  return out;
}
