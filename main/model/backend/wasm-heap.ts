/**
 * Direct access to tensors living on the tfjs-backend-wasm heap, for gradient kernels that need what the
 * public op set cannot express cheaply: zero-copy *row windows* of a row-major matrix fed straight to
 * XNNPACK's matmul, and plain memory copies/scatters that the generic Slice/Pad kernels do slowly.
 *
 * Relies on tfjs-backend-wasm 4.x internals (tensor registry by integer id, BatchMatMul export). They are
 * declared structurally here so a version change fails loudly in the kernel tests, not silently.
 */
import * as tf from '@tensorflow/tfjs-core';

interface WasmTensorData {
  id: number;
  memoryOffset: number;
}

interface WasmModule {
  HEAPF32: Float32Array;
  cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
  tfjs: {
    registerTensor(id: number, size: number, memoryOffset: number): void;
    disposeData(id: number): void;
  };
}

/** The parts of BackendWasm these kernels touch (some are private in its .d.ts, hence structural). */
export interface WasmBackendInternals {
  wasm: WasmModule;
  dataIdNextNumber: number;
  dataIdMap: { get(dataId: object): WasmTensorData | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

export function wasmInternals(backend: unknown): WasmBackendInternals {
  const b = backend as Partial<WasmBackendInternals>;
  if (!b.wasm?.tfjs?.registerTensor || !b.dataIdMap || typeof b.dataIdNextNumber !== 'number') {
    throw new Error('wasm gradient kernels: unexpected tfjs-backend-wasm internals (version change?)');
  }
  return b as WasmBackendInternals;
}

function dataOf(be: WasmBackendInternals, t: tf.TensorInfo): WasmTensorData {
  const d = be.dataIdMap.get(t.dataId);
  if (!d) throw new Error('wasm gradient kernels: tensor is not on the wasm backend');
  return d;
}

/** Float32 view of a tensor's heap memory (valid until the next heap growth: use immediately). */
export function heapF32(be: WasmBackendInternals, t: tf.TensorInfo): Float32Array {
  const { memoryOffset } = dataOf(be, t);
  const size = t.shape.reduce((a, b) => a * b, 1);
  return new Float32Array(be.wasm.HEAPF32.buffer, memoryOffset, size);
}

const matMulFns = new WeakMap<object, (...args: unknown[]) => void>();

function wasmBatchMatMul(be: WasmBackendInternals): (...args: unknown[]) => void {
  let fn = matMulFns.get(be.wasm);
  if (!fn) {
    fn = be.wasm.cwrap('BatchMatMul', null, [
      'number',
      'array',
      'number',
      'number',
      'array',
      'number',
      'number',
      'number',
      'number',
    ]);
    matMulFns.set(be.wasm, fn);
  }
  return fn;
}

function shapeBytes(shape: number[]): Uint8Array {
  return new Uint8Array(new Int32Array(shape).buffer);
}

/** A row-major [rows, cols] matrix starting `offset` floats into a tensor's heap memory (no copy). */
export interface MatrixView {
  base: tf.TensorInfo;
  offset: number;
  rows: number;
  cols: number;
}

/**
 * out[M, N] = a[M, K] · b[K, N] on views into existing tensors: each view is registered as a temporary
 * tensor id aliasing the owner's memory, so nothing is copied; XNNPACK packs b as its "weights" operand.
 * `out` must be a float32 tensor of M·N elements.
 */
export function matMulViews(
  be: WasmBackendInternals,
  a: MatrixView,
  b: MatrixView,
  out: tf.TensorInfo,
): void {
  if (a.cols !== b.rows) throw new Error('matMulViews: inner dimensions differ');
  const ids: number[] = [];
  const alias = (v: MatrixView): number => {
    const data = dataOf(be, v.base);
    const size = v.base.shape.reduce((x, y) => x * y, 1);
    if (v.offset < 0 || v.offset + v.rows * v.cols > size)
      throw new Error('matMulViews: view outside tensor');
    const id = be.dataIdNextNumber++;
    be.wasm.tfjs.registerTensor(id, v.rows * v.cols, data.memoryOffset + v.offset * 4);
    ids.push(id);
    return id;
  };
  try {
    wasmBatchMatMul(be)(
      alias(a),
      shapeBytes([1, a.rows, a.cols]),
      3,
      alias(b),
      shapeBytes([1, b.rows, b.cols]),
      3,
      false,
      false,
      dataOf(be, out).id,
    );
  } finally {
    // Unregisters the aliases (and the XNNPACK operator cached on b); the memory belongs to the owners.
    for (const id of ids) be.wasm.tfjs.disposeData(id);
  }
}

/** Allocate an uninitialised float32 tensor on the wasm backend. */
export function allocate(be: WasmBackendInternals, shape: number[]): tf.Tensor {
  return tf.engine().makeTensorFromTensorInfo(be.makeOutput(shape, 'float32'));
}
