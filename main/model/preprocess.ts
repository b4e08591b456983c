/**
 * From slices to network input and back: 2.5D channel stacking, robust per-slice intensity
 * normalisation, aspect-preserving resize with padding (letterbox), and the inverse mapping of a
 * probability map to the slice's native size. Pure functions on typed arrays, plus one small cache
 * (`ScanInputs`) that reads each slice of a scan once.
 */
import type { PixelArray, PixelBox, Scan, SliceImage } from '../core/types';
import { measureValues } from '../core/arrays';

export interface NormalisationSpec {
  method: 'percentile';
  /** Intensities below this percentile map to 0 (e.g. 0.5). */
  lowPercentile: number;
  /** Intensities above this percentile map to 1 (e.g. 99.5). */
  highPercentile: number;
}

export const DEFAULT_NORMALISATION: NormalisationSpec = {
  method: 'percentile',
  lowPercentile: 0.5,
  highPercentile: 99.5,
};

/** Bins used for float data whose values are not small integers; integer data is binned exactly. */
const FLOAT_BINS = 4096;
const MAX_EXACT_RANGE = 65536;

/**
 * The p-th percentiles of `data` by the inverted-CDF definition (numpy `method='inverted_cdf'`): the
 * smallest value v with at least p % of the values ≤ v. Found with a histogram, so O(n) — exact for
 * integer data spanning ≤ 65536 levels, otherwise to within 1/4096 of the range (rounded down).
 */
export function percentiles(data: PixelArray, ps: number[]): number[] {
  const n = data.length;
  if (n === 0) return ps.map(() => 0);
  // 8- and 16-bit samples (scanner slices): one histogram over every value the type can hold, no pass to
  // find the range first. The same bins, shifted, as the exact integer case below, so the same answers.
  if (data instanceof Uint16Array || data instanceof Uint8Array)
    return typedPercentilesAndMax(data, ps).found;
  const { min, max, integral } = measureValues(data);
  if (!Number.isFinite(min) || !Number.isFinite(max)) return ps.map(() => 0);
  const exact = integral && max - min + 1 <= MAX_EXACT_RANGE;
  const bins = exact ? max - min + 1 : FLOAT_BINS;
  const binWidth = exact ? 1 : (max - min) / FLOAT_BINS || 1;
  const hist = new Uint32Array(bins);
  if (exact) {
    // the same bins as below with binWidth 1, without the division and clamp per pixel
    for (let i = 0; i < n; i++) hist[data[i]! - min]!++;
  } else {
    for (let i = 0; i < n; i++) {
      hist[Math.min(bins - 1, Math.floor((data[i]! - min) / binWidth))]!++;
    }
  }
  return ps.map((p) => {
    const rank = Math.max(1, Math.ceil((p / 100) * n));
    let seen = 0;
    for (let b = 0; b < bins; b++) {
      seen += hist[b]!;
      if (seen >= rank) return min + b * binWidth;
    }
    return max;
  });
}

/** typedPercentilesAndMax's bins, kept between calls and left all zero (256 KiB less garbage per slice). */
const typedHistogram = new Uint32Array(65536);
/** countLevels' second set of bins (odd samples), likewise kept and left all zero. */
const oddHistogram = new Uint32Array(65536);

/**
 * Adds each sample to `hist` and returns the largest. Even and odd samples go to separate bins, summed at
 * the end: runs of one value (a scan's dark background) would otherwise make every increment wait for the
 * one before it, at about a third of the speed. A function of its own: V8 optimises a hot loop on the fly
 * (on-stack replacement), and code after the loop that the interpreter had not yet run then throws the
 * optimised code away again, on every slice.
 */
function countLevels(data: Uint8Array | Uint16Array, hist: Uint32Array): number {
  const odd = oddHistogram;
  const n = data.length;
  let max = 0;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const v = data[i]!;
    const w = data[i + 1]!;
    hist[v]!++;
    odd[w]!++;
    if (v > max) max = v;
    if (w > max) max = w;
  }
  if (i < n) {
    const v = data[i]!;
    hist[v]!++;
    if (v > max) max = v;
  }
  for (let v = 0; v <= max; v++) {
    hist[v]! += odd[v]!;
    odd[v] = 0;
  }
  return max;
}

/** The percentiles of 8- and 16-bit samples (see percentiles) and the largest value. */
function typedPercentilesAndMax(
  data: Uint8Array | Uint16Array,
  ps: number[],
): { found: number[]; max: number } {
  const hist = typedHistogram;
  const n = data.length;
  const max = countLevels(data, hist);
  const found = ps.map((p) => {
    const rank = Math.max(1, Math.ceil((p / 100) * n));
    if (p < 50) {
      let seen = 0;
      for (let v = 0; v < max; v++) {
        seen += hist[v]!;
        if (seen >= rank) return v;
      }
      return max;
    }
    // From the top (a high percentile lies near the brightest value, far from 0): v is the answer while the
    // values above it number at most n − rank, and so is v − 1 while they stay so. p > 100: the largest value.
    let above = 0;
    let v = max;
    while (v > 0 && above + hist[v]! <= n - rank) above += hist[v--]!;
    return v;
  });
  hist.fill(0, 0, max + 1);
  return { found, max };
}

/** levelsTable's buffer, kept between calls (prepareSlice uses it before the next slice). */
let levelTable = new Float32Array(0);

/** What each level 0…max maps to (each divided once: the same float32 as dividing each pixel), shared. */
function levelsTable(lo: number, hi: number, max: number): Float32Array {
  if (levelTable.length <= max) levelTable = new Float32Array(Math.max(max + 1, 2 * levelTable.length));
  const table = levelTable.subarray(0, max + 1);
  const range = hi - lo;
  if (!(range > 0)) return table.fill(0);
  for (let v = 0; v <= max; v++) table[v] = v <= lo ? 0 : v >= hi ? 1 : (v - lo) / range;
  return table;
}

/**
 * How a slice's values become [0, 1], from one histogram: for 8- and 16-bit slices a table of every level
 * 0…max (read it before the next slice: the buffer is shared), unless the levels far outnumber the pixels;
 * otherwise the clip range [lo, hi].
 */
type Normaliser = { levels: Float32Array } | { lo: number; hi: number };

function normaliserOf(image: SliceImage, spec: NormalisationSpec): Normaliser {
  const data = image.data;
  const ps = [spec.lowPercentile, spec.highPercentile];
  if (data instanceof Uint16Array || data instanceof Uint8Array) {
    const { found, max } = typedPercentilesAndMax(data, ps);
    const [lo, hi] = found as [number, number];
    return max < 2 * data.length + 256 ? { levels: levelsTable(lo, hi, max) } : { lo, hi };
  }
  const [lo, hi] = percentiles(data, ps) as [number, number];
  return { lo, hi };
}

/** `data` normalised into `out` (every element written). */
function applyNormaliser(data: PixelArray, n: Normaliser, out: Float32Array): Float32Array {
  if ('levels' in n) {
    const levels = n.levels;
    for (let i = 0; i < out.length; i++) out[i] = levels[data[i]!]!;
    return out;
  }
  const range = n.hi - n.lo;
  if (!(range > 0)) return out.fill(0);
  for (let i = 0; i < out.length; i++) {
    const v = (data[i]! - n.lo) / range;
    out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return out;
}

/**
 * Clip to the [low, high] percentiles and scale to [0, 1]; a flat slice becomes all zeros. Every element of
 * `out` (default: a new array) is written, so a caller that uses the result at once may reuse one buffer.
 */
export function normaliseSlice(
  image: SliceImage,
  spec: NormalisationSpec = DEFAULT_NORMALISATION,
  out: Float32Array = new Float32Array(image.data.length),
): Float32Array {
  return applyNormaliser(image.data, normaliserOf(image, spec), out);
}

/**
 * Where a slice sits inside the network input: scaled by the same factor on both axes (sides rounded to
 * whole pixels) and centred, the rest padded with zeros.
 */
export interface LetterboxTransform {
  srcWidth: number;
  srcHeight: number;
  dstWidth: number;
  dstHeight: number;
  /** Size of the scaled slice inside the input. */
  innerWidth: number;
  innerHeight: number;
  /** Top-left corner of the scaled slice inside the input. */
  offsetX: number;
  offsetY: number;
}

export function letterboxTransform(
  srcWidth: number,
  srcHeight: number,
  dstWidth: number,
  dstHeight: number,
  /** Input pixels per source pixel across columns and down rows; default: the largest that fits. */
  scale?: { x: number; y: number },
): LetterboxTransform {
  const fit = Math.min(dstWidth / srcWidth, dstHeight / srcHeight);
  const { x: sx, y: sy } = scale ?? { x: fit, y: fit };
  // With an explicit scale the slice may be larger than the input: it is then centre-cropped
  // (negative offset), the cropped border counts as "no organ" when mapped back.
  const innerWidth = Math.max(
    1,
    scale ? Math.round(srcWidth * sx) : Math.min(dstWidth, Math.round(srcWidth * sx)),
  );
  const innerHeight = Math.max(
    1,
    scale ? Math.round(srcHeight * sy) : Math.min(dstHeight, Math.round(srcHeight * sy)),
  );
  return {
    srcWidth,
    srcHeight,
    dstWidth,
    dstHeight,
    innerWidth,
    innerHeight,
    offsetX: Math.floor((dstWidth - innerWidth) / 2),
    offsetY: Math.floor((dstHeight - innerHeight) / 2),
  };
}

/**
 * The transform of a slice onto the network input. With the model's `spacingMm` and the scan's pixel
 * spacing both known, every scan meets the network at the same physical scale (mm per input pixel), so a
 * 234², 266² or 360×310 scan shows the organs at one size; otherwise the slice is fitted to the input.
 */
export function inputTransform(
  srcWidth: number,
  srcHeight: number,
  input: { height: number; width: number },
  pixelSpacing: readonly [row: number, column: number] | null | undefined,
  spacingMm: number | undefined,
): LetterboxTransform {
  const known = spacingMm && pixelSpacing && pixelSpacing[0] > 0 && pixelSpacing[1] > 0;
  const scale = known ? { x: pixelSpacing[1] / spacingMm, y: pixelSpacing[0] / spacingMm } : undefined;
  return letterboxTransform(srcWidth, srcHeight, input.width, input.height, scale);
}

/**
 * Source coordinate (clamped to [0, n−1]) of each of `m` output pixels when n pixels are resampled to m,
 * with pixel centres aligned (half-pixel convention), as lower index + weight of the upper neighbour.
 */
function samplePositions(n: number, m: number): SamplePositions {
  const key = `${n}→${m}`;
  let found = recentPositions.get(key);
  if (!found) {
    found = computeSamplePositions(n, m);
    if (recentPositions.size >= 16) recentPositions.clear();
    recentPositions.set(key, found);
  }
  return found;
}

interface SamplePositions {
  readonly lower: Int32Array;
  readonly weight: Float32Array;
}

/** The sizes resampled last, by "n→m": a scan maps the same few sizes for every slice and organ. */
const recentPositions = new Map<string, SamplePositions>();

function computeSamplePositions(n: number, m: number): SamplePositions {
  const lower = new Int32Array(m);
  const weight = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    const s = Math.min(n - 1, Math.max(0, ((i + 0.5) * n) / m - 0.5));
    const l = Math.min(n - 2, Math.floor(s));
    lower[i] = Math.max(0, l);
    weight[i] = n === 1 ? 0 : s - Math.max(0, l);
  }
  return { lower, weight };
}

/** A channel laid out in a typed array: element (x, y) is at `offset + y*rowStride + x*pixelStride`. */
interface Plane<T extends ArrayLike<number>> {
  data: T;
  /** When given, element values are indices into it and the plane's values are levels[element]. */
  levels?: Float32Array;
  width: number;
  height: number;
  offset: number;
  pixelStride: number;
  rowStride: number;
}

/**
 * Row `base…` of `s` interpolated across columns: into[k] = v(i) + (v(i + next) − v(i))·w[k], i = base + col[k],
 * where v(i) is s[i], or levels[s[i]] when `levels` is given (an integer slice seen through its normalised
 * levels).
 */
function interpolateRow(
  s: ArrayLike<number>,
  base: number,
  next: number,
  columns: Int32Array,
  weights: Float64Array,
  into: Float64Array,
  levels?: Float32Array,
): void {
  for (let k = 0; k < into.length; k++) {
    const i = base + columns[k]!;
    const a = levels ? levels[s[i]!]! : s[i]!;
    const b = levels ? levels[s[i + next]!]! : s[i + next]!;
    into[k] = a + (b - a) * weights[k]!;
  }
}

/** One output row: out[o + k·step] = upper[k] + (lower[k] − upper[k])·w. */
function blendRows(
  out: Float32Array,
  o: number,
  step: number,
  upper: Float64Array,
  lower: Float64Array,
  w: number,
): void {
  for (let k = 0; k < upper.length; k++, o += step) {
    const top = upper[k]!;
    out[o] = top + (lower[k]! - top) * w;
  }
}

/**
 * Bilinear resample of plane `src` onto the whole of plane `dst` (half-pixel centres, edges clamped). Only
 * dst pixels inside `visible` (x0 ≤ x < x1, y0 ≤ y < y1; default all) are written: a cropped input.
 *
 * Separable: each source row the output needs is interpolated across columns once, into a Float64 row,
 * and every output row blends two of those. The values are the ones the direct 2×2 form gives (the same
 * double operations in the same order), but an upsampled map (about 2× on each axis after inference)
 * reuses each interpolated row for about two output rows instead of redoing four reads per pixel.
 */
function resample(
  src: Plane<ArrayLike<number>>,
  dst: Plane<Float32Array>,
  visible = { x0: 0, x1: dst.width, y0: 0, y1: dst.height },
): void {
  const { x0, x1, y0, y1 } = visible;
  if (x1 <= x0 || y1 <= y0) return;
  const xs = samplePositions(src.width, dst.width);
  const ys = samplePositions(src.height, dst.height);
  const span = x1 - x0;
  // Source column offset and weight of each visible output column.
  const columns = new Int32Array(span);
  const weights = new Float64Array(span);
  for (let k = 0; k < span; k++) {
    columns[k] = xs.lower[x0 + k]! * src.pixelStride;
    weights[k] = xs.weight[x0 + k]!;
  }
  const nextX = src.width > 1 ? src.pixelStride : 0;
  const interpolate = (row: number, into: Float64Array) =>
    interpolateRow(src.data, src.offset + row * src.rowStride, nextX, columns, weights, into, src.levels);
  let upper = new Float64Array(span);
  let lower = new Float64Array(span);
  let upperRow = -1;
  let lowerRow = -1;
  for (let y = y0; y < y1; y++) {
    const r0 = ys.lower[y]!;
    const r1 = Math.min(src.height - 1, r0 + 1);
    if (r0 !== upperRow) {
      if (r0 === lowerRow) {
        [upper, lower] = [lower, upper];
        lowerRow = -1;
      } else interpolate(r0, upper);
      upperRow = r0;
    }
    if (r1 !== lowerRow) {
      if (r1 === upperRow) lower.set(upper);
      else interpolate(r1, lower);
      lowerRow = r1;
    }
    const o = dst.offset + y * dst.rowStride + x0 * dst.pixelStride;
    blendRows(dst.data, o, dst.pixelStride, upper, lower, ys.weight[y]!);
  }
}

/** The part of the scaled slice (inner grid coordinates) that lies inside the network input. */
function visibleWindow(t: LetterboxTransform) {
  return {
    x0: Math.max(0, -t.offsetX),
    x1: Math.min(t.innerWidth, t.dstWidth - t.offsetX),
    y0: Math.max(0, -t.offsetY),
    y1: Math.min(t.innerHeight, t.dstHeight - t.offsetY),
  };
}

function isCropped(t: LetterboxTransform): boolean {
  return (
    t.offsetX < 0 ||
    t.offsetY < 0 ||
    t.innerWidth + t.offsetX > t.dstWidth ||
    t.innerHeight + t.offsetY > t.dstHeight
  );
}

/**
 * Resize one channel (row-major, srcWidth×srcHeight) into the network input (bilinear), zero padding around
 * it. With `levels`, the channel's values are levels[src[i]].
 */
export function letterbox(
  src: ArrayLike<number>,
  t: LetterboxTransform,
  levels?: Float32Array,
): Float32Array {
  const out = new Float32Array(t.dstWidth * t.dstHeight);
  resample(
    {
      data: src,
      levels,
      width: t.srcWidth,
      height: t.srcHeight,
      offset: 0,
      pixelStride: 1,
      rowStride: t.srcWidth,
    },
    {
      data: out,
      width: t.innerWidth,
      height: t.innerHeight,
      offset: t.offsetY * t.dstWidth + t.offsetX,
      pixelStride: 1,
      rowStride: t.dstWidth,
    },
    visibleWindow(t),
  );
  return out;
}

/**
 * Map channel `channel` of a dstHeight×dstWidth×`channels` network output (NHWC, starting at element
 * `offset`, e.g. one image of a batch) back to the slice's native srcWidth×srcHeight grid (bilinear),
 * dropping the padding. Every element of `out` (default: a new array) is written, so a caller mapping many
 * slices may pass the same buffer each time instead of allocating one per slice and organ.
 */
export function unletterbox(
  map: Float32Array,
  t: LetterboxTransform,
  channel = 0,
  channels = 1,
  offset = 0,
  out: Float32Array = new Float32Array(t.srcWidth * t.srcHeight),
  /** Only these native pixels are resampled; the rest of `out` is set to 0 (see unletterboxedSummary). */
  region?: PixelBox,
): Float32Array {
  if (out.length !== t.srcWidth * t.srcHeight) {
    throw new RangeError(
      `unletterbox: output holds ${out.length} values, the slice ${t.srcWidth}×${t.srcHeight}`,
    );
  }
  if (region) out.fill(0);
  const dst: Plane<Float32Array> = {
    data: out,
    width: t.srcWidth,
    height: t.srcHeight,
    offset: 0,
    pixelStride: 1,
    rowStride: t.srcWidth,
  };
  if (!isCropped(t)) {
    resample(
      {
        data: map,
        width: t.innerWidth,
        height: t.innerHeight,
        offset: offset + (t.offsetY * t.dstWidth + t.offsetX) * channels + channel,
        pixelStride: channels,
        rowStride: t.dstWidth * channels,
      },
      dst,
      region,
    );
    return out;
  }
  // Cropped: the scaled slice's grid, zero where the input did not reach, then back to native size.
  const inner = new Float32Array(t.innerWidth * t.innerHeight);
  const v = visibleWindow(t);
  for (let y = v.y0; y < v.y1; y++) {
    for (let x = v.x0; x < v.x1; x++) {
      inner[y * t.innerWidth + x] =
        map[offset + ((y + t.offsetY) * t.dstWidth + x + t.offsetX) * channels + channel]!;
    }
  }
  resample(
    {
      data: inner,
      width: t.innerWidth,
      height: t.innerHeight,
      offset: 0,
      pixelStride: 1,
      rowStride: t.innerWidth,
    },
    dst,
    region,
  );
  return out;
}

/** How much each of `n` source pixels contributes, summed over the `m` output pixels resampled from them. */
function contributions(n: number, m: number): Float64Array {
  const { lower, weight } = samplePositions(n, m);
  const out = new Float64Array(n);
  for (let k = 0; k < m; k++) {
    out[lower[k]!] += 1 - weight[k]!;
    if (n > 1) out[lower[k]! + 1] += weight[k]!;
  }
  return out;
}

/** The output pixels [k0, k1) whose two source pixels (lower, lower + 1) touch sources [lo, hi]. */
function touching(lower: Int32Array, lo: number, hi: number): [number, number] {
  let k0 = 0;
  while (k0 < lower.length && lower[k0]! + 1 < lo) k0++;
  let k1 = k0;
  while (k1 < lower.length && lower[k1]! <= hi) k1++;
  return [k0, k1];
}

/**
 * Σ map · cx · cy over the window, and the box (inclusive; bx1 = by1 = −1 when empty) of values ≥ floor.
 * A leaf of its own for the reason given at countLevels.
 */
function weightedSumAndBox(
  map: Float32Array,
  window: { x0: number; x1: number; y0: number; y1: number },
  /** Element of (x, y) = at + y·rowStride + x·channels. */
  at: number,
  rowStride: number,
  channels: number,
  cx: Float64Array,
  cy: Float64Array,
  floor: number,
): { mass: number; bx0: number; bx1: number; by0: number; by1: number } {
  const { x0, x1, y0, y1 } = window;
  let mass = 0;
  let [bx0, bx1, by0, by1] = [Infinity, -1, Infinity, -1];
  for (let y = y0; y < y1; y++) {
    let row = 0;
    for (let x = x0, i = at + y * rowStride + x0 * channels; x < x1; x++, i += channels) {
      const v = map[i]!;
      if (v >= floor) {
        if (x < bx0) bx0 = x;
        if (x > bx1) bx1 = x;
        if (y < by0) by0 = y;
        by1 = y;
      }
      row += v * cx[x]!;
    }
    mass += row * cy[y]!;
  }
  return { mass, bx0, bx1, by0, by1 };
}

/**
 * What the map `unletterbox` would produce from that channel holds, without producing it:
 * - `mass`: its sum. Bilinear resampling is linear and separable, so the sum is Σ value · (column's
 *   contribution) · (row's contribution) over the network's grid: equal up to float rounding, a fraction of
 *   the work;
 * - `region` (when `floor` > 0 is given): the native pixels that may reach `floor`, i.e. those with a
 *   network value ≥ floor among their bilinear sources. Bilinear values are convex combinations of their
 *   sources, so every native value outside it is below `floor` (up to float rounding of the
 *   interpolation; callers leave a margin). Undefined when none may.
 */
export function unletterboxedSummary(
  map: Float32Array,
  t: LetterboxTransform,
  channel = 0,
  channels = 1,
  offset = 0,
  floor = Infinity,
): { mass: number; region?: PixelBox } {
  const cx = contributions(t.innerWidth, t.srcWidth);
  const cy = contributions(t.innerHeight, t.srcHeight);
  const at = offset + (t.offsetY * t.dstWidth + t.offsetX) * channels + channel;
  const { mass, bx0, bx1, by0, by1 } = weightedSumAndBox(
    map,
    visibleWindow(t),
    at,
    t.dstWidth * channels,
    channels,
    cx,
    cy,
    floor,
  );
  if (!(floor > 0 && floor < Infinity)) {
    // No floor, or one that the zeros around a cropped slice reach: no region to promise.
    return floor <= 0 ? { mass, region: { x0: 0, x1: t.srcWidth, y0: 0, y1: t.srcHeight } } : { mass };
  }
  if (by1 < 0) return { mass };
  const [rx0, rx1] = touching(samplePositions(t.innerWidth, t.srcWidth).lower, bx0, bx1);
  const [ry0, ry1] = touching(samplePositions(t.innerHeight, t.srcHeight).lower, by0, by1);
  return { mass, region: { x0: rx0, x1: rx1, y0: ry0, y1: ry1 } };
}

/** The three slice indices of the 2.5D input for slice `i` of `n`: i−s, i, i+s clamped to the scan. */
export function neighbourIndices(i: number, n: number, s: number): [number, number, number] {
  const clamp = (k: number) => Math.min(n - 1, Math.max(0, k));
  return [clamp(i - s), i, clamp(i + s)];
}

/**
 * The 2.5D neighbours by slice number: the slices numbered i−s and i+s (clamped to the scan), found where
 * a scan has gaps (a Kaggle scan missing slices, a training set of scattered slices); a neighbour that is
 * not there is replaced by the slice itself rather than by a far-away one.
 */
export function neighbourSlices(
  slices: ReadonlyArray<{ number: number }>,
  i: number,
  s: number,
): [number, number, number] {
  const [lo, , hi] = neighbourIndices(i, slices.length, s);
  const pick = (j: number): number => {
    if (j === i) return i;
    const want = slices[i]!.number + (j - i);
    if (slices[j]!.number === want) return j;
    const found = slices.findIndex((x) => x.number === want);
    return found >= 0 ? found : i;
  };
  return [pick(lo), i, pick(hi)];
}

/** One slice as the network sees it: normalised, letterboxed, with the transform that undoes it. */
export interface PreparedSlice {
  pixels: Float32Array;
  transform: LetterboxTransform;
}

export function prepareSlice(
  image: SliceImage,
  input: { height: number; width: number },
  normalisation: NormalisationSpec = DEFAULT_NORMALISATION,
  geometry: { pixelSpacing?: readonly [number, number] | null; spacingMm?: number } = {},
  /** Holds the normalised native-size slice on its way to the input (see normaliseSlice); default new. */
  scratch?: Float32Array,
): PreparedSlice {
  const transform = inputTransform(
    image.width,
    image.height,
    input,
    geometry.pixelSpacing,
    geometry.spacingMm,
  );
  // An integer slice is resampled through its table of normalised levels: the same values as normalising
  // every pixel first, without writing and reading back a float copy of the slice.
  const n = normaliserOf(image, normalisation);
  const pixels =
    'levels' in n
      ? letterbox(image.data, transform, n.levels)
      : letterbox(applyNormaliser(image.data, n, scratch ?? new Float32Array(image.data.length)), transform);
  return { pixels, transform };
}

/**
 * NHWC: three planes interleaved into `data` from element `o`, in one pass (one write stream, not three
 * strided ones). Outside the async batch() that calls it, where V8 optimises a hot loop less readily.
 */
function interleave3(
  data: Float32Array,
  o: number,
  below: Float32Array,
  centre: Float32Array,
  above: Float32Array,
): void {
  for (let p = 0; p < centre.length; p++, o += 3) {
    data[o] = below[p]!;
    data[o + 1] = centre[p]!;
    data[o + 2] = above[p]!;
  }
}

export interface InputOptions {
  input: { height: number; width: number };
  /** Slice offset s of the 2.5D stack. */
  sliceStride: number;
  normalisation: NormalisationSpec;
  /** Millimetres per input pixel (the card's `input.spacingMm`); absent: slices are fitted to the input. */
  spacingMm?: number;
}

/**
 * Builds NHWC input batches for consecutive slices of one scan, reading and preparing each slice once
 * and keeping only the window the next batches still need (bounded memory on long scans).
 */
export class ScanInputs {
  private readonly cache = new Map<number, Promise<PreparedSlice>>();
  /** The normalised slice before letterboxing, one at a time (prepareSlice runs synchronously). */
  private scratch = new Float32Array(0);

  constructor(
    private readonly scan: Pick<Scan, 'readSlice' | 'slices'> & Partial<Pick<Scan, 'pixelSpacing'>>,
    private readonly opts: InputOptions,
  ) {}

  private prepared(index: number): Promise<PreparedSlice> {
    let p = this.cache.get(index);
    if (!p) {
      p = this.scan.readSlice(index).then((image) => {
        if (this.scratch.length !== image.data.length) this.scratch = new Float32Array(image.data.length);
        return prepareSlice(
          image,
          this.opts.input,
          this.opts.normalisation,
          { pixelSpacing: this.scan.pixelSpacing, spacingMm: this.opts.spacingMm },
          this.scratch,
        );
      });
      this.cache.set(index, p);
    }
    return p;
  }

  /** Input tensor data for slices [start, start+count) and each centre slice's transform. */
  async batch(
    start: number,
    count: number,
  ): Promise<{ data: Float32Array; transforms: LetterboxTransform[] }> {
    const { height, width } = this.opts.input;
    const pixels = height * width;
    const data = new Float32Array(count * pixels * 3);
    const transforms: LetterboxTransform[] = [];
    for (let b = 0; b < count; b++) {
      const idx = neighbourSlices(this.scan.slices, start + b, this.opts.sliceStride);
      const channels = await Promise.all(idx.map((k) => this.prepared(k)));
      transforms.push(channels[1]!.transform);
      const [below, centre, above] = channels.map((ch) => ch.pixels) as [
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      interleave3(data, b * pixels * 3, below, centre, above);
    }
    // Slices before (next start − s) are never needed again.
    const keepFrom = start + count - this.opts.sliceStride;
    for (const k of this.cache.keys()) if (k < keepFrom) this.cache.delete(k);
    return { data, transforms };
  }
}
