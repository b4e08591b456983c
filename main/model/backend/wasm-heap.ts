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

/**
 * out[M, N] = a[M, K] · b[rowStart : rowStart + K, :] where `b` is a row-major matrix with N columns.
 * The window of b is registered as a temporary tensor aliasing b's memory (no copy); XNNPACK packs it as
 * its "weights" operand, which is the only pass over it besides the multiply. `out` must be [M, N].
 */
export function matMulRowWindow(
  be: WasmBackendInternals,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  rowStart: number,
  out: tf.TensorInfo,
): void {
  const [m, k] = a.shape as [number, number];
  const n = b.shape[b.shape.length - 1]!;
  const bRows = b.shape.reduce((x, y) => x * y, 1) / n;
  if (rowStart < 0 || rowStart + k > bRows) throw new Error('matMulRowWindow: window outside b');
  if (out.shape[0] !== m || out.shape[1] !== n) throw new Error('matMulRowWindow: bad output shape');
  const viewId = be.dataIdNextNumber++;
  be.wasm.tfjs.registerTensor(viewId, k * n, dataOf(be, b).memoryOffset + rowStart * n * 4);
  try {
    wasmBatchMatMul(be)(
      dataOf(be, a).id,
      shapeBytes([1, m, k]),
      3,
      viewId,
      shapeBytes([1, k, n]),
      3,
      false,
      false,
      dataOf(be, out).id,
    );
  } finally {
    // Unregisters the alias (and the XNNPACK operator cached on it); the memory belongs to b.
    be.wasm.tfjs.disposeData(viewId);
  }
}

/** Allocate an uninitialised float32 tensor on the wasm backend. */
export function allocate(be: WasmBackendInternals, shape: number[]): tf.Tensor {
  return tf.engine().makeTensorFromTensorInfo(be.makeOutput(shape, 'float32'));
}
