/**
 * The per-pixel loops of slice decoding and inference — PNG rows, bilinear resampling, the summary of a
 * network map, the level histogram, an organ's threshold and uncertainty sums — as WebAssembly compiled
 * from pixels.c (scripts/build-kernels.mjs). Why not JavaScript: V8 runs such loops fast only once it has
 * optimised them, and every fresh thread pays for that again. A fresh inference worker spent ≈ 100 ms of
 * CPU on its post-processing's first 144 slices beyond what it spends once warm (unoptimised loops, then
 * compiling them beside the forward passes), and each worker of each run paid it. This module is compiled
 * when first used (≈ 2 ms) and runs at full speed from the first slice. Pure: no Node, no DOM. A map
 * already in the module's memory (`addressOf`) is read in place.
 *
 * Memory: buffers live in the module's own memory. `layout` hands out addresses for one piece of work,
 * from the same place each time (the previous work's buffers are reused); growing the memory detaches
 * every view made before, so views are made after `layout`, and dropped before the next one.
 */
import type { PixelBox } from '../core/types';
import { PIXELS_WASM_BASE64 } from './pixels-wasm';

/** How a plane's elements are stored; integer samples may be read through a level table. */
export type SampleKind = 'f32' | 'f64' | 'u16' | 'u8';
const KIND_CODE: Record<SampleKind, number> = { f32: 0, f64: 1, u16: 2, u8: 3 };

/** A plane in the kernels' memory: element (x, y) is at `offset + y*rowStride + x*pixelStride` of `ptr`. */
export interface KernelPlane {
  ptr: number;
  kind: SampleKind;
  /** Address of a float32 table the integer samples index (0: none). */
  levels?: number;
  width: number;
  height: number;
  offset: number;
  pixelStride: number;
  rowStride: number;
}

/** The part of the WebAssembly JS API used here (this project's TypeScript libraries do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  __heap_base: { readonly value: number };
  resample_scratch_bytes(dstW: number, dstH: number, span: number): number;
  resample(...args: number[]): void;
  summary_scratch_bytes(innerW: number, innerH: number, srcW: number, srcH: number): number;
  summary(...args: number[]): void;
  count_levels(data: number, n: number, bytesPerSample: number, hist: number, odd: number): number;
  png_unfilter(raw: number, height: number, rowBytes: number, bpp: number, swap: number, out: number): number;
  uncertainty_terms(...args: number[]): void;
  threshold_box(...args: number[]): void;
  mask_runs(...args: number[]): void;
}

const PAGE = 65536;
const align8 = (n: number) => Math.ceil(n / 8) * 8;

export class PixelKernels {
  private readonly x: Exports;
  /** Start of the per-work buffers (after the permanent ones). */
  private readonly scratchStart: number;
  /** The histogram's two sets of 65,536 bins, kept all zero between calls. */
  private readonly hist: number;
  private readonly odd: number;
  /** Where the kernels write the few numbers they return (read at once, before the next call). */
  private readonly results: number;

  constructor() {
    const bytes = Uint8Array.from(atob(PIXELS_WASM_BASE64), (c) => c.charCodeAt(0));
    this.x = new wasmApi.Instance(new wasmApi.Module(bytes), {}).exports as Exports;
    const heapBase = this.x.__heap_base.value;
    this.hist = align8(heapBase);
    this.odd = this.hist + 65536 * 4;
    this.results = this.odd + 65536 * 4;
    this.scratchStart = this.results + 64;
    this.ensure(this.scratchStart);
  }

  private ensure(end: number): void {
    const have = this.x.memory.buffer.byteLength;
    if (end > have) this.x.memory.grow(Math.ceil((end - have) / PAGE));
  }

  /** Addresses of buffers of these sizes in bytes (8-aligned), laid out for one piece of work. */
  layout(sizes: readonly number[]): number[] {
    let at = this.scratchStart;
    const out = sizes.map((n) => {
      const p = at;
      at += align8(n);
      return p;
    });
    this.ensure(at);
    return out;
  }

  /** Where `array` lies in the kernels' memory (to be read in place), or undefined when elsewhere. */
  addressOf(array: ArrayBufferView): number | undefined {
    return array.buffer === this.x.memory.buffer ? array.byteOffset : undefined;
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.x.memory.buffer, ptr, length);
  }

  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.x.memory.buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.x.memory.buffer, ptr, length);
  }

  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.x.memory.buffer, ptr, length);
  }

  /** Copies `data`'s elements to `ptr` (a buffer laid out for it). */
  copyIn(data: Float32Array | Float64Array | Uint16Array | Uint8Array, ptr: number): void {
    new Uint8Array(this.x.memory.buffer, ptr, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
  }

  zero(ptr: number, bytes: number): void {
    new Uint8Array(this.x.memory.buffer, ptr, bytes).fill(0);
  }

  resampleScratchBytes(dstWidth: number, dstHeight: number, span: number): number {
    return this.x.resample_scratch_bytes(dstWidth, dstHeight, span);
  }

  /**
   * Bilinear resample of `src` onto the whole of `dst` (a float32 plane): half-pixel centres, edges
   * clamped; only dst pixels inside `visible` are written. `scratch`: resampleScratchBytes of room.
   */
  resample(src: KernelPlane, dst: KernelPlane, visible: PixelBox, scratch: number): void {
    this.x.resample(
      KIND_CODE[src.kind],
      src.ptr,
      src.levels ?? 0,
      src.width,
      src.height,
      src.offset,
      src.pixelStride,
      src.rowStride,
      dst.ptr,
      dst.width,
      dst.height,
      dst.offset,
      dst.pixelStride,
      dst.rowStride,
      visible.x0,
      visible.x1,
      visible.y0,
      visible.y1,
      scratch,
    );
  }

  summaryScratchBytes(innerWidth: number, innerHeight: number, srcWidth: number, srcHeight: number) {
    return this.x.summary_scratch_bytes(innerWidth, innerHeight, srcWidth, srcHeight);
  }

  /**
   * Σ value · (column's contribution) · (row's contribution) over `visible` of a network map (inner grid
   * at `at`, rows `rowStride` apart, pixels `channels` apart) resampled to src size, and the native pixels
   * whose bilinear sources include a value ≥ floor (undefined when none do).
   */
  summary(
    map: number,
    at: number,
    rowStride: number,
    channels: number,
    inner: { width: number; height: number },
    src: { width: number; height: number },
    visible: PixelBox,
    floor: number,
    scratch: number,
  ): { mass: number; box?: PixelBox } {
    const massAt = this.results;
    const boxAt = massAt + 8;
    this.x.summary(
      map,
      at,
      rowStride,
      channels,
      inner.width,
      inner.height,
      src.width,
      src.height,
      visible.x0,
      visible.x1,
      visible.y0,
      visible.y1,
      floor,
      scratch,
      massAt,
      boxAt,
    );
    const mass = this.f64(massAt, 1)[0]!;
    const [found, x0, x1, y0, y1] = this.i32(boxAt, 5) as unknown as number[];
    return found ? { mass, box: { x0: x0!, x1: x1!, y0: y0!, y1: y1! } } : { mass };
  }

  /**
   * Counts every sample of `data` into the kernels' histogram and returns the largest sample and the bins
   * 0…max (a view: read it, then call `clearLevels(max)` before the next count).
   */
  countLevels(data: Uint8Array | Uint16Array): { max: number; hist: Uint32Array } {
    const [at] = this.layout([data.byteLength]);
    this.copyIn(data, at!);
    const max = this.x.count_levels(at!, data.length, data.BYTES_PER_ELEMENT, this.hist, this.odd);
    return { max, hist: new Uint32Array(this.x.memory.buffer, this.hist, max + 1) };
  }

  /** Zeroes the histogram's bins 0…max again. */
  clearLevels(max: number): void {
    new Uint32Array(this.x.memory.buffer, this.hist, max + 1).fill(0);
  }

  /**
   * Uncertainty terms (see model/uncertainty) of the part `part` of a map `width` wide at `map`:
   * Σ p·[p≤t] + Σ (1−p)·[p>t], Σ p and #[p>t], summed in pixel order.
   */
  uncertaintyTerms(
    kind: 'f32' | 'f64',
    map: number,
    width: number,
    part: PixelBox,
    threshold: number,
  ): { wrongSide: number; mass: number; count: number } {
    this.x.uncertainty_terms(
      KIND_CODE[kind],
      map,
      width,
      part.x0,
      part.x1,
      part.y0,
      part.y1,
      threshold,
      this.results,
    );
    const [wrongSide, mass, count] = this.f64(this.results, 3) as unknown as number[];
    return { wrongSide: wrongSide!, mass: mass!, count: count! };
  }

  /**
   * An organ's mask over `box` of a float32 probability map `width` wide: the box's pixels (row by row,
   * written at `mask`) above `threshold`, how many are above `gate` and above `threshold`, and the sum of
   * the latter's probabilities in pixel order.
   */
  thresholdBox(
    prob: number,
    width: number,
    box: PixelBox,
    threshold: number,
    gate: number,
    mask: number,
  ): { gateCount: number; count: number; sum: number } {
    const counts = this.results;
    const sum = counts + 8;
    this.x.threshold_box(prob, width, box.x0, box.x1, box.y0, box.y1, threshold, gate, mask, counts, sum);
    const [gateCount, count] = this.i32(counts, 2) as unknown as number[];
    return { gateCount: gateCount!, count: count!, sum: this.f64(sum, 1)[0]! };
  }

  /**
   * The runs of a row-major mask (any non-zero byte inside): `rows`, each row-major run as a (1-based
   * start, length) pair (Kaggle RLE); with `columns`, `cols`, the column-major run lengths starting with a
   * background run (pycocotools' rleEncode); the inside pixels and their bounding box [x, y, width,
   * height] (all 0 when empty). `rows` and `cols` are views: read them before the next call.
   */
  maskRuns(
    mask: Uint8Array,
    width: number,
    height: number,
    columns: boolean,
  ): { rows: Int32Array; cols: Int32Array; area: number; box: [number, number, number, number] } {
    const n = mask.length;
    // Worst cases: a run every other pixel (n/2 + 1 pairs), a count per pixel and one more.
    const [maskAt, rowsAt, colsAt, statsAt] = this.layout([n, 4 * (n + 2), columns ? 4 * (n + 1) : 0, 28]);
    this.copyIn(mask, maskAt!);
    this.x.mask_runs(maskAt!, width, height, columns ? 1 : 0, rowsAt!, colsAt!, statsAt!);
    const [pairs, counts, area, x, y, w, h] = this.i32(statsAt!, 7) as unknown as number[];
    return {
      rows: this.i32(rowsAt!, 2 * pairs!),
      cols: this.i32(colsAt!, counts!),
      area: area!,
      box: [x!, y!, w!, h!],
    };
  }

  /**
   * A PNG's rows as inflated (`height` of them, each a filter-type byte and `rowBytes` bytes) unfiltered
   * and packed: the pixel bytes, in an array of their own, 16-bit samples swapped when `swap`. Else the
   * first row whose filter type is not one of PNG's five, and that type.
   */
  pngRows(
    raw: Uint8Array,
    height: number,
    rowBytes: number,
    bpp: number,
    swap: boolean,
  ): { pixels: Uint8Array } | { badRow: number; filter: number } {
    const size = height * (rowBytes + 1);
    const [rawAt, outAt] = this.layout([size, height * rowBytes]);
    this.copyIn(raw.subarray(0, size), rawAt!);
    const bad = this.x.png_unfilter(rawAt!, height, rowBytes, bpp, swap ? 1 : 0, outAt!);
    if (bad >= 0) return { badRow: bad, filter: this.u8(rawAt! + bad * (rowBytes + 1), 1)[0]! };
    return { pixels: this.u8(outAt!, height * rowBytes).slice() };
  }
}

let shared: PixelKernels | undefined;

/** This thread's kernels, compiled on first use. */
export function pixelKernels(): PixelKernels {
  return (shared ??= new PixelKernels());
}
