/**
 * Layer building blocks shared by the architectures. Only standard ops (conv, batch norm, ReLU/swish,
 * sigmoid, resize, concat, global pool, multiply) so the saved graph maps one-to-one onto ONNX.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { SymbolicTensor } from '@tensorflow/tfjs-layers';
import type { Upsampling } from './spec';

type Activation = 'relu' | 'swish' | 'sigmoid' | 'linear';

/** Apply one layer to one symbolic tensor (tfjs-layers types `apply` too loosely for a graph builder). */
export function applyTo(layer: tfl.layers.Layer, x: SymbolicTensor | SymbolicTensor[]): SymbolicTensor {
  return layer.apply(x) as SymbolicTensor;
}

/** Conv (no bias: batch norm supplies it) → batch norm → activation. */
export function convBnAct(
  x: SymbolicTensor,
  filters: number,
  opts: { kernel?: number; strides?: number; activation?: Activation; name: string },
): SymbolicTensor {
  const kernel = opts.kernel ?? 3;
  let y = applyTo(
    tfl.layers.conv2d({
      filters,
      kernelSize: kernel,
      strides: opts.strides ?? 1,
      padding: 'same',
      useBias: false,
      kernelInitializer: 'heNormal',
      name: `${opts.name}_conv`,
    }),
    x,
  );
  y = applyTo(
    tfl.layers.batchNormalization({ axis: -1, momentum: 0.99, epsilon: 1e-3, name: `${opts.name}_bn` }),
    y,
  );
  const activation = opts.activation ?? 'relu';
  if (activation !== 'linear')
    y = applyTo(tfl.layers.activation({ activation, name: `${opts.name}_${activation}` }), y);
  return y;
}

/** Double resolution; a transposed conv also maps to `filters` channels, bilinear keeps the channel count. */
export function upsample(x: SymbolicTensor, filters: number, mode: Upsampling, name: string): SymbolicTensor {
  if (mode === 'transpose') {
    return applyTo(
      tfl.layers.conv2dTranspose({
        filters,
        kernelSize: 2,
        strides: 2,
        padding: 'same',
        kernelInitializer: 'heNormal',
        name: `${name}_upconv`,
      }),
      x,
    );
  }
  return applyTo(tfl.layers.upSampling2d({ size: [2, 2], interpolation: 'bilinear', name: `${name}_up` }), x);
}

/** Decoder stage: up-sample, concatenate the skip (if any), two conv-BN-ReLU. */
export function decoderBlock(
  x: SymbolicTensor,
  skip: SymbolicTensor | undefined,
  filters: number,
  mode: Upsampling,
  name: string,
): SymbolicTensor {
  let y = upsample(x, filters, mode, name);
  if (skip) y = applyTo(tfl.layers.concatenate({ axis: -1, name: `${name}_concat` }), [y, skip]);
  y = convBnAct(y, filters, { name: `${name}_a` });
  return convBnAct(y, filters, { name: `${name}_b` });
}

/** 1×1 conv to one sigmoid map per class, bias set to a small foreground prior. */
export function sigmoidHead(x: SymbolicTensor, classes: number, bias: number): SymbolicTensor {
  return applyTo(
    tfl.layers.conv2d({
      filters: classes,
      kernelSize: 1,
      activation: 'sigmoid',
      biasInitializer: tfl.initializers.constant({ value: bias }),
      name: 'head',
    }),
    x,
  );
}
