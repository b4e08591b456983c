/**
 * From slices to network input and back: 2.5D channel stacking, robust per-slice intensity
 * normalisation, aspect-preserving resize with padding (letterbox), and the inverse mapping of a
 * probability map to the slice's native size. Pure functions on typed arrays, plus one small cache
 * (`ScanInputs`) that reads each slice of a scan once. The per-pixel loops (resampling, the summary of a
 * map, the level histogram) run in WebAssembly (main/kernels/pixels.c), with the same results.
 */
import type { PixelArray, PixelBox, Scan, SliceImage } from '../core/types';
import { measureValues } from '../core/arrays';
import { pixelKernels, type KernelPlane, type PixelKernels, type SampleKind } from '../kernels/pixels';

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

/** The percentiles of 8- and 16-bit samples (see percentiles) and the largest value. */
function typedPercentilesAndMax(
  data: Uint8Array | Uint16Array,
  ps: number[],
): { found: number[]; max: number } {
  const kernels = pixelKernels();
  const n = data.length;
  // Even and odd samples counted apart, in WebAssembly (main/kernels/pixels.c).
  const { max, hist } = kernels.countLevels(data);
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
  kernels.clearLevels(max);
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

/** A slice's samples as an array the kernels take as they are (other element types as doubles, exactly). */
function samplesOf(src: ArrayLike<number>): {
  kind: SampleKind;
  data: Float32Array | Float64Array | Uint16Array | Uint8Array;
} {
  if (src instanceof Float32Array) return { kind: 'f32', data: src };
  if (src instanceof Uint16Array) return { kind: 'u16', data: src };
  if (src instanceof Uint8Array) return { kind: 'u8', data: src };
  return { kind: 'f64', data: src instanceof Float64Array ? src : Float64Array.from(src) };
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
  const k = pixelKernels();
  const { kind, data } = samplesOf(src);
  const size = t.dstWidth * t.dstHeight;
  const visible = visibleWindow(t);
  const [srcAt, levelsAt, outAt, scratch] = k.layout([
    data.byteLength,
    levels?.byteLength ?? 0,
    size * 4,
    k.resampleScratchBytes(t.innerWidth, t.innerHeight, Math.max(0, visible.x1 - visible.x0)),
  ]);
  k.copyIn(data, srcAt!);
  if (levels) k.copyIn(levels, levelsAt!);
  k.zero(outAt!, size * 4);
  k.resample(
    {
      ptr: srcAt!,
      kind,
      levels: levels ? levelsAt : 0,
      width: t.srcWidth,
      height: t.srcHeight,
      offset: 0,
      pixelStride: 1,
      rowStride: t.srcWidth,
    },
    {
      ptr: outAt!,
      kind: 'f32',
      width: t.innerWidth,
      height: t.innerHeight,
      offset: t.offsetY * t.dstWidth + t.offsetX,
      pixelStride: 1,
      rowStride: t.dstWidth,
    },
    visible,
    scratch!,
  );
  return k.f32(outAt!, size).slice();
}

/** Bytes of kernel memory unletterboxIn needs besides the map and the output: [inner grid, scratch]. */
export function unletterboxBytes(k: PixelKernels, t: LetterboxTransform): [number, number] {
  const inner = isCropped(t) ? t.innerWidth * t.innerHeight * 4 : 0;
  return [
    inner,
    Math.max(
      k.resampleScratchBytes(t.srcWidth, t.srcHeight, t.srcWidth),
      k.summaryScratchBytes(t.innerWidth, t.innerHeight, t.srcWidth, t.srcHeight),
    ),
  ];
}

/**
 * unletterbox on buffers already in the kernels' memory: the map (`mapLength` floats at `mapAt`) to the
 * srcWidth×srcHeight floats at `outAt`, only `region` (default: all of it) written. `innerAt`, `scratch`:
 * unletterboxBytes of room.
 */
export function unletterboxIn(
  k: PixelKernels,
  mapAt: number,
  mapLength: number,
  t: LetterboxTransform,
  channel: number,
  channels: number,
  offset: number,
  outAt: number,
  region: PixelBox | undefined,
  innerAt: number,
  scratch: number,
): void {
  const dst: KernelPlane = {
    ptr: outAt,
    kind: 'f32',
    width: t.srcWidth,
    height: t.srcHeight,
    offset: 0,
    pixelStride: 1,
    rowStride: t.srcWidth,
  };
  const window = region ?? { x0: 0, x1: t.srcWidth, y0: 0, y1: t.srcHeight };
  if (!isCropped(t)) {
    const src: KernelPlane = {
      ptr: mapAt,
      kind: 'f32',
      width: t.innerWidth,
      height: t.innerHeight,
      offset: offset + (t.offsetY * t.dstWidth + t.offsetX) * channels + channel,
      pixelStride: channels,
      rowStride: t.dstWidth * channels,
    };
    k.resample(src, dst, window, scratch);
    return;
  }
  // Cropped: the scaled slice's grid, zero where the input did not reach, then back to native size.
  const map = k.f32(mapAt, mapLength);
  const inner = k.f32(innerAt, t.innerWidth * t.innerHeight).fill(0);
  const v = visibleWindow(t);
  for (let y = v.y0; y < v.y1; y++) {
    for (let x = v.x0; x < v.x1; x++) {
      inner[y * t.innerWidth + x] =
        map[offset + ((y + t.offsetY) * t.dstWidth + x + t.offsetX) * channels + channel]!;
    }
  }
  const src: KernelPlane = {
    ptr: innerAt,
    kind: 'f32',
    width: t.innerWidth,
    height: t.innerHeight,
    offset: 0,
    pixelStride: 1,
    rowStride: t.innerWidth,
  };
  k.resample(src, dst, window, scratch);
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
  const k = pixelKernels();
  const [innerBytes, scratchBytes] = unletterboxBytes(k, t);
  const [mapAt, outAt, innerAt, scratch] = k.layout([
    map.byteLength,
    out.byteLength,
    innerBytes,
    scratchBytes,
  ]);
  k.copyIn(map, mapAt!);
  unletterboxIn(k, mapAt!, map.length, t, channel, channels, offset, outAt!, region, innerAt!, scratch!);
  const result = k.f32(outAt!, out.length);
  if (!region) {
    out.set(result);
    return out;
  }
  out.fill(0);
  for (let y = region.y0; y < region.y1; y++) {
    const row = y * t.srcWidth;
    out.set(result.subarray(row + region.x0, row + region.x1), row + region.x0);
  }
  return out;
}

/** unletterboxedSummary of a map already in the kernels' memory (`scratch`: unletterboxBytes' second). */
export function unletterboxedSummaryIn(
  k: PixelKernels,
  mapAt: number,
  t: LetterboxTransform,
  channel: number,
  channels: number,
  offset: number,
  floor: number,
  scratch: number,
): { mass: number; region?: PixelBox } {
  const at = offset + (t.offsetY * t.dstWidth + t.offsetX) * channels + channel;
  const { mass, box } = k.summary(
    mapAt,
    at,
    t.dstWidth * channels,
    channels,
    { width: t.innerWidth, height: t.innerHeight },
    { width: t.srcWidth, height: t.srcHeight },
    visibleWindow(t),
    floor,
    scratch,
  );
  if (!(floor > 0 && floor < Infinity)) {
    // No floor, or one that the zeros around a cropped slice reach: no region to promise.
    return floor <= 0 ? { mass, region: { x0: 0, x1: t.srcWidth, y0: 0, y1: t.srcHeight } } : { mass };
  }
  return box ? { mass, region: box } : { mass };
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
  const k = pixelKernels();
  const [mapAt, scratch] = k.layout([map.byteLength, unletterboxBytes(k, t)[1]]);
  k.copyIn(map, mapAt!);
  return unletterboxedSummaryIn(k, mapAt!, t, channel, channels, offset, floor, scratch!);
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
