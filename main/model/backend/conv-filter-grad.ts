/**
 * Conv2DBackpropFilter for the wasm backend, as XNNPACK matmuls on zero-copy views.
 *
 * dW[i,j,ci,co] = Σ_{b,y,x} X[b, y·s+i−pt, x·s+j−pl, ci] · dY[b,y,x,co]. Instead of materialising an
 * im2col matrix (9× the input, and the generic Slice kernel is slow), X is laid out once, zero-padded, on
 * a grid where every filter tap is a constant *row offset*: with dY placed on the same grid (zeros
 * outside the real output), tap (i,j) is Σ_r dY[r − off] · X[r] with off = a·Wq + c a constant row shift.
 * Stride s > 1 splits X into s row phases and folds the s column phases into the channel axis, so one
 * product yields s taps. The reduction axis (all pixels) is cut into cache-sized chunks; per chunk ONE
 * matmul [taps·C', chunk] × [chunk, C] computes every tap: the left side is built by memmoves of shifted
 * dYᵀ rows, the right side is a zero-copy view of X. Tall-and-thin per-tap matmuls measured 3× slower
 * (XNNPACK re-packs the right operand every call and its 16×16 tiles are too small to run at speed).
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import { allocate, heapF32, matMulViews, wasmInternals, type WasmBackendInternals } from './wasm-heap';

/** Geometry of the filter gradient: how taps map onto phases and grid offsets, and the chunking. */
export interface TapGrid {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outC: number;
  outH: number;
  outW: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  padTop: number;
  padLeft: number;
  /** Grid rows/cols per image: output size + (largest tap offset in grid units). */
  hq: number;
  wq: number;
  /** Rows of the reduction (B·hq·wq) per matmul, and how many chunks cover them. */
  chunk: number;
  chunks: number;
}

/** Floats of both matmul operands per chunk, sized to stay in a typical L2. */
const CHUNK_FLOATS = 128 * 1024;

export function tapGrid(conv: backend_util.Conv2DInfo): TapGrid {
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = conv;
  const { filterHeight: kh, filterWidth: kw, outHeight, outWidth } = conv;
  const hq = outHeight + Math.floor(((kh - 1) * dh) / sh);
  const wq = outWidth + Math.floor(((kw - 1) * dw) / sw);
  const rows = conv.batchSize * hq * wq;
  const perRow = Math.ceil((kh * kw) / sh) * conv.outChannels + sw * conv.inChannels;
  const chunk = Math.min(rows, Math.max(256, Math.floor(CHUNK_FLOATS / perRow)));
  return {
    batch: conv.batchSize,
    inH: conv.inHeight,
    inW: conv.inWidth,
    inC: conv.inChannels,
    outC: conv.outChannels,
    outH: outHeight,
    outW: outWidth,
    kh,
    kw,
    sh,
    sw,
    dh,
    dw,
    padTop: conv.padInfo.top,
    padLeft: conv.padInfo.left,
    hq,
    wq,
    chunk,
    chunks: Math.ceil(rows / chunk),
  };
}

/**
 * Row phase p of X on the tap grid: rows (b,a,c) = X[b, a·sh+p−pt, c·sw+q−pl, :] for q = 0..sw−1 side by
 * side, zeros outside X. Zero rows follow the real ones so every shifted, chunk-rounded window stays
 * inside the tensor.
 */
export function phaseRows(be: WasmBackendInternals, x: tf.TensorInfo, g: TapGrid, p: number): tf.Tensor {
  const rowFloats = g.wq * g.sw * g.inC;
  const out = allocate(be, [g.chunks * g.chunk + g.hq * g.wq, g.sw * g.inC]);
  const dst = heapF32(be, out);
  const src = heapF32(be, x);
  dst.fill(0);
  // Source columns [0, inW) land at grid columns [pl, pl + inW), clipped to the grid.
  const col0 = Math.max(0, g.padLeft);
  const srcCol0 = col0 - g.padLeft;
  const cols = Math.min(g.inW - srcCol0, g.wq * g.sw - col0);
  if (cols <= 0) return out;
  for (let b = 0; b < g.batch; b++) {
    for (let a = 0; a < g.hq; a++) {
      const r = a * g.sh + p - g.padTop;
      if (r < 0 || r >= g.inH) continue;
      const s = ((b * g.inH + r) * g.inW + srcCol0) * g.inC;
      dst.set(src.subarray(s, s + cols * g.inC), (b * g.hq + a) * rowFloats + col0 * g.inC);
    }
  }
  return out;
}

/**
 * dYᵀ on the grid: [C', lead + chunks·chunk + hq·wq] with dY[b,y,x,c'] at column lead + (b·hq + y)·wq + x
 * and zeros elsewhere, so a row window starting at lead + r − off reads dY shifted by off.
 */
export function gridTransposedDy(
  be: WasmBackendInternals,
  dy: tf.TensorInfo,
  g: TapGrid,
  lead: number,
): tf.Tensor {
  const ch = dy.shape[3]!;
  const width = lead + g.chunks * g.chunk + g.hq * g.wq;
  const out = allocate(be, [ch, width]);
  const dst = heapF32(be, out);
  const src = heapF32(be, dy);
  dst.fill(0);
  let s = 0;
  for (let b = 0; b < g.batch; b++) {
    for (let y = 0; y < g.outH; y++) {
      const rowStart = lead + (b * g.hq + y) * g.wq;
      for (let x = 0; x < g.outW; x++) {
        let d = rowStart + x;
        for (let k = 0; k < ch; k++, d += width) dst[d] = src[s++]!;
      }
    }
  }
  return out;
}

/** Visit every filter tap with the phase, column phase and grid row offset that reads it. */
export function forEachTap(
  g: TapGrid,
  fn: (i: number, j: number, p: number, q: number, rowOffset: number) => void,
): void {
  for (let i = 0; i < g.kh; i++) {
    const ri = i * g.dh;
    for (let j = 0; j < g.kw; j++) {
      const cj = j * g.dw;
      fn(i, j, ri % g.sh, cj % g.sw, Math.floor(ri / g.sh) * g.wq + Math.floor(cj / g.sw));
    }
  }
}

/**
 * For one row phase: Σ over chunks of [shifted dYᵀ rows for each offset] · X_p[chunk] →
 * [offsets.length · C', sw·C], accumulated in float64.
 */
function phaseProducts(
  be: WasmBackendInternals,
  g: TapGrid,
  dyT: tf.Tensor,
  lead: number,
  rows: tf.Tensor,
  offsets: number[],
): Float64Array {
  const n = g.sw * g.inC;
  const m = offsets.length * g.outC;
  const width = dyT.shape[1]!;
  const left = allocate(be, [m, g.chunk]);
  const part = allocate(be, [m, n]);
  const acc = new Float64Array(m * n);
  try {
    const heap = be.wasm.HEAPF32;
    const dyBase = be.dataIdMap.get(dyT.dataId)!.memoryOffset / 4;
    const leftBase = be.dataIdMap.get(left.dataId)!.memoryOffset / 4;
    for (let c = 0; c < g.chunks; c++) {
      const r0 = c * g.chunk;
      offsets.forEach((off, t) => {
        for (let co = 0; co < g.outC; co++) {
          const from = dyBase + co * width + lead + r0 - off;
          heap.copyWithin(leftBase + (t * g.outC + co) * g.chunk, from, from + g.chunk);
        }
      });
      matMulViews(
        be,
        { base: left, offset: 0, rows: m, cols: g.chunk },
        { base: rows, offset: r0 * n, rows: g.chunk, cols: n },
        part,
      );
      const p = heapF32(be, part);
      for (let k = 0; k < acc.length; k++) acc[k]! += p[k]!;
    }
  } finally {
    tf.dispose([left, part]);
  }
  return acc;
}

export function conv2dBackpropFilterWasm(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const be = wasmInternals(args.backend);
  const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
  const attrs = args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (attrs.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter (wasm): only NHWC is supported');
  const filterShape = attrs.filterShape as [number, number, number, number];
  const conv = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const g = tapGrid(conv);
  // Taps grouped by row phase, each with its distinct grid offsets.
  const byPhase = new Map<number, number[]>();
  forEachTap(g, (_i, _j, p, _q, off) => {
    const offs = byPhase.get(p) ?? [];
    if (!offs.includes(off)) offs.push(off);
    byPhase.set(p, offs);
  });
  const lead = Math.max(...[...byPhase.values()].flat());
  const dyT = gridTransposedDy(be, dy, g, lead);
  try {
    const products = new Map<number, Float64Array>();
    for (const [p, offsets] of byPhase) {
      const rows = phaseRows(be, x, g, p);
      try {
        products.set(p, phaseProducts(be, g, dyT, lead, rows, offsets));
      } finally {
        rows.dispose();
      }
    }
    const dW = new Float32Array(g.kh * g.kw * g.inC * g.outC);
    const n = g.sw * g.inC;
    forEachTap(g, (i, j, p, q, off) => {
      const prod = products.get(p)!;
      const t = byPhase.get(p)!.indexOf(off);
      // prod[(t·C' + co), q·C + ci] → dW[i, j, ci, co]
      const base = (i * g.kw + j) * g.inC * g.outC;
      for (let ci = 0; ci < g.inC; ci++) {
        for (let co = 0; co < g.outC; co++) {
          dW[base + ci * g.outC + co] = prod[(t * g.outC + co) * n + q * g.inC + ci]!;
        }
      }
    });
    const out = allocate(be, filterShape);
    heapF32(be, out).set(dW);
    return out;
  } finally {
    dyT.dispose();
  }
}
