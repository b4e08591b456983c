/**
 * Registers the training kernels tfjs-backend-wasm lacks (Conv2DBackpropFilter, both depthwise
 * gradients) and replaces its scalar-loop Conv2DBackpropInput with XNNPACK-based rewrites, its generic
 * index loops for memory shuffles with block copies (./wasm-fast-copies) and its transpose-then-reduce
 * Sum/Mean over all but the channel axis with a matrix product (./wasm-reductions). Call after the
 * wasm backend is registered; idempotent. Each kernel is checked against the cpu backend in
 * test/unit/backend-wasm-gradients.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { conv2dBackpropFilterWasm } from './conv-filter-grad';
import { makeConv2dBackpropInputWasm } from './conv-input-grad';
import { depthwiseBackpropFilterWasm, depthwiseBackpropInputWasm } from './depthwise-grads';
import {
  makeConcatWasm,
  makeDepthToSpaceWasm,
  makeReverseWasm,
  makeSplitVWasm,
  makeTileWasm,
  type StockKernel,
} from './wasm-fast-copies';
import { makeChannelReductionWasm } from './wasm-reductions';

const MARK = Symbol.for('tractus.wasmGradient');

type KernelFunc = tf.KernelConfig['kernelFunc'];

function install(kernelName: string, kernelFunc: KernelFunc): void {
  const existing = tf.getKernel(kernelName, 'wasm');
  if (existing) {
    if ((existing.kernelFunc as unknown as Record<symbol, boolean>)[MARK]) return;
    tf.unregisterKernel(kernelName, 'wasm');
  }
  (kernelFunc as unknown as Record<symbol, boolean>)[MARK] = true;
  tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
}

/** The kernels this module provides on wasm, for `tractus doctor` and tests. */
export const WASM_GRADIENT_KERNELS = [
  'Conv2DBackpropFilter',
  'Conv2DBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'Tile',
  'DepthToSpace',
  'Concat',
  'SplitV',
  'Reverse',
  'Sum',
  'Mean',
] as const;

/** Replace a stock wasm kernel by a faster one that delegates the cases it does not cover to it. */
function wrapStock(kernelName: string, make: (stock: StockKernel) => StockKernel): void {
  const stock = tf.getKernel(kernelName, 'wasm');
  if (!stock || (stock.kernelFunc as unknown as Record<symbol, boolean>)[MARK]) return;
  install(kernelName, make(stock.kernelFunc as unknown as StockKernel) as unknown as KernelFunc);
}

export function registerWasmGradientKernels(): void {
  install('Conv2DBackpropFilter', conv2dBackpropFilterWasm as KernelFunc);
  wrapStock('Conv2DBackpropInput', makeConv2dBackpropInputWasm);
  wrapStock('Tile', makeTileWasm);
  wrapStock('DepthToSpace', makeDepthToSpaceWasm);
  wrapStock('Concat', makeConcatWasm);
  wrapStock('SplitV', makeSplitVWasm);
  wrapStock('Reverse', makeReverseWasm);
  wrapStock('Sum', makeChannelReductionWasm('sum'));
  wrapStock('Mean', makeChannelReductionWasm('mean'));
  install('DepthwiseConv2dNativeBackpropFilter', depthwiseBackpropFilterWasm as KernelFunc);
  install('DepthwiseConv2dNativeBackpropInput', depthwiseBackpropInputWasm as KernelFunc);
}
