/**
 * Memory-shuffling kernels the stock wasm backend runs as slow generic index loops, which a U-Net
 * training step hits hard: Tile (batch-norm gradient broadcasts a [C] vector to the full activation),
 * DepthToSpace (2×2 up-sampling gradient), Concat/SplitV along channels (skip connections), Reverse (every
 * filter rotated 180° for Conv2DBackpropInput, ≈ 1.7 ms a call, 3 % of an EfficientNet-U-Net step). Each fast path
 * is a plain memory copy on the wasm heap; every other case goes to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import { util } from '@tensorflow/tfjs-core';
import { allocate, heapF32, wasmInternals } from './wasm-heap';

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
export type StockKernel = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

/** Copy n floats; short runs as a loop (set() has per-call overhead), long runs as a memmove. */
function copy(dst: Float32Array, to: number, src: Float32Array, from: number, n: number): void {
  if (n < 48) {
    for (let k = 0; k < n; k++) dst[to + k] = src[from + k]!;
  } else {
    dst.set(src.subarray(from, from + n), to);
  }
}

/** Tile where x is all-ones in the tiled dims: the output is x's block repeated; doubles by copyWithin. */
export function makeTileWasm(stock: StockKernel): StockKernel {
  return (args) => {
    const x = args.inputs.x!;
    const reps = (args.attrs as unknown as tf.TileAttrs).reps;
    const firstUntiled = reps.findIndex((r, i) => r === 1 && reps.slice(i).every((q) => q === 1));
    const k = firstUntiled === -1 ? reps.length : firstUntiled;
    if (x.dtype !== 'float32' || x.shape.slice(0, k).some((d) => d !== 1)) return stock(args);
    const be = wasmInternals(args.backend);
    const out = allocate(
      be,
      x.shape.map((d, i) => d * reps[i]!),
    );
    const dst = heapF32(be, out);
    const block = util.sizeFromShape(x.shape);
    dst.set(heapF32(be, x), 0);
    for (let filled = block; filled < dst.length; filled *= 2) {
      dst.copyWithin(filled, 0, Math.min(filled, dst.length - filled));
    }
    return out;
  };
}

export function makeDepthToSpaceWasm(stock: StockKernel): StockKernel {
  return (args) => {
    const x = args.inputs.x!;
    const { blockSize: s, dataFormat } = args.attrs as unknown as tf.DepthToSpaceAttrs;
    if (x.dtype !== 'float32' || dataFormat !== 'NHWC') return stock(args);
    const be = wasmInternals(args.backend);
    const [b, h, w, d] = x.shape as [number, number, number, number];
    const c = d / (s * s);
    const out = allocate(be, [b, h * s, w * s, c]);
    const dst = heapF32(be, out);
    const src = heapF32(be, x);
    const chunk = s * c; // one input pixel's row-a slice = s output pixels side by side
    for (let bh = 0; bh < b * h; bh++) {
      for (let a = 0; a < s; a++) {
        let to = (bh * s + a) * w * chunk;
        for (let col = 0; col < w; col++, to += chunk)
          copy(dst, to, src, (bh * w + col) * d + a * chunk, chunk);
      }
    }
    return out;
  };
}

function innerAxis(axis: number | number[], rank: number): boolean {
  const a = Array.isArray(axis) ? axis[0]! : axis;
  return (a < 0 ? a + rank : a) === rank - 1;
}

/** Concat along the last axis: each output row is the inputs' rows side by side. */
export function makeConcatWasm(stock: StockKernel): StockKernel {
  return (args) => {
    const xs = Object.values(args.inputs) as tf.TensorInfo[];
    const rank = xs[0]?.shape.length ?? 0;
    const { axis } = args.attrs as unknown as tf.ConcatAttrs;
    if (rank < 2 || !innerAxis(axis, rank) || xs.some((t) => t.dtype !== 'float32')) return stock(args);
    const be = wasmInternals(args.backend);
    const widths = xs.map((t) => t.shape[rank - 1]!);
    const total = widths.reduce((p, q) => p + q, 0);
    const rows = util.sizeFromShape(xs[0]!.shape) / widths[0]!;
    const out = allocate(be, [...xs[0]!.shape.slice(0, -1), total]);
    const dst = heapF32(be, out);
    let offset = 0;
    xs.forEach((t, k) => {
      const src = heapF32(be, t);
      const wk = widths[k]!;
      for (let r = 0; r < rows; r++) copy(dst, r * total + offset, src, r * wk, wk);
      offset += wk;
    });
    return out;
  };
}

/** SplitV along the last axis: the inverse of the concat above. */
export function makeSplitVWasm(stock: StockKernel): StockKernel {
  return (args) => {
    const x = args.inputs.x!;
    const rank = x.shape.length;
    const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
    if (rank < 2 || !innerAxis(axis, rank) || x.dtype !== 'float32') return stock(args);
    const total = x.shape[rank - 1]!;
    const sizes = Array.isArray(numOrSizeSplits)
      ? numOrSizeSplits.map((s, _i, all) =>
          s === -1 ? total - all.reduce((p, q) => p + (q === -1 ? 0 : q), 0) : s,
        )
      : new Array<number>(numOrSizeSplits).fill(total / numOrSizeSplits);
    const be = wasmInternals(args.backend);
    const rows = util.sizeFromShape(x.shape) / total;
    const outs = sizes.map((w) => allocate(be, [...x.shape.slice(0, -1), w]));
    const src = heapF32(be, x);
    let offset = 0;
    outs.forEach((o, k) => {
      const dst = heapF32(be, o);
      const wk = sizes[k]!;
      for (let r = 0; r < rows; r++) copy(dst, r * wk, src, r * total + offset, wk);
      offset += wk;
    });
    return outs;
  };
}

/**
 * Reverse where the dims after the last reversed axis are untouched (a [kh, kw, ci, co] filter rotated over
 * its spatial axes): whole blocks of those trailing dims copied in mirrored order.
 */
export function makeReverseWasm(stock: StockKernel): StockKernel {
  return (args) => {
    const x = args.inputs.x!;
    const { dims } = args.attrs as unknown as tf.ReverseAttrs;
    if (x.dtype !== 'float32' || x.shape.length === 0) return stock(args);
    const axes = util.parseAxisParam(dims, x.shape);
    if (axes.length === 0) return stock(args);
    const last = Math.max(...axes);
    const block = util.sizeFromShape(x.shape.slice(last + 1));
    // Reversing the innermost axis leaves single elements to move: the stock loop does that as well.
    if (block < 8) return stock(args);
    const outer = x.shape.slice(0, last + 1);
    const be = wasmInternals(args.backend);
    const out = allocate(be, x.shape);
    const dst = heapF32(be, out);
    const src = heapF32(be, x);
    const count = util.sizeFromShape(outer);
    for (let o = 0; o < count; o++) {
      // o's coordinates (the last outer axis fastest), mirrored on the reversed axes, give the source block.
      let rest = o;
      let from = 0;
      let stride = 1;
      for (let i = outer.length - 1; i >= 0; i--) {
        const d = outer[i]!;
        const k = rest % d;
        rest = (rest - k) / d;
        from += (axes.includes(i) ? d - 1 - k : k) * stride;
        stride *= d;
      }
      copy(dst, o * block, src, from * block, block);
    }
    return out;
  };
}
