/**
 * The reference model for backend speed work: a 4-level U-Net (filters 16-32-64-128-256, two 3×3
 * conv + BN + ReLU per level, 2×2 transposed-conv up-sampling, 3 sigmoid outputs), 1.94 M parameters —
 * the size of the compact model the product trains. Benchmarks and the data-parallel trainer use it so
 * speed claims are measured on a realistic graph, not a toy.
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

export interface BenchUnetOptions {
  size?: number;
  filters?: number[];
  outputs?: number;
  seed?: number;
}

export function buildBenchUnet(opts: BenchUnetOptions = {}): tfl.LayersModel {
  const size = opts.size ?? 256;
  const filters = opts.filters ?? [16, 32, 64, 128, 256];
  const seed = opts.seed ?? 1;
  let n = 0;
  const init = () => tfl.initializers.heNormal({ seed: seed + n++ });
  const block = (x: tfl.SymbolicTensor, f: number): tfl.SymbolicTensor => {
    for (let i = 0; i < 2; i++) {
      x = tfl.layers
        .conv2d({ filters: f, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init() })
        .apply(x) as tfl.SymbolicTensor;
      x = tfl.layers.batchNormalization().apply(x) as tfl.SymbolicTensor;
      x = tfl.layers.reLU().apply(x) as tfl.SymbolicTensor;
    }
    return x;
  };
  const input = tfl.input({ shape: [size, size, 1] });
  const skips: tfl.SymbolicTensor[] = [];
  let x: tfl.SymbolicTensor = input;
  for (const f of filters.slice(0, -1)) {
    x = block(x, f);
    skips.push(x);
    x = tfl.layers.maxPooling2d({ poolSize: 2 }).apply(x) as tfl.SymbolicTensor;
  }
  x = block(x, filters[filters.length - 1]!);
  for (let level = filters.length - 2; level >= 0; level--) {
    const f = filters[level]!;
    x = tfl.layers
      .conv2dTranspose({ filters: f, kernelSize: 2, strides: 2, padding: 'same', kernelInitializer: init() })
      .apply(x) as tfl.SymbolicTensor;
    x = tfl.layers.concatenate().apply([skips[level]!, x]) as tfl.SymbolicTensor;
    x = block(x, f);
  }
  const out = tfl.layers
    .conv2d({ filters: opts.outputs ?? 3, kernelSize: 1, activation: 'sigmoid', kernelInitializer: init() })
    .apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: out, name: 'bench_unet' });
}

/**
 * Multiply-accumulate count of one forward pass per image (convolutions only; they dominate). A
 * depthwise kernel [kh, kw, in, multiplier] costs kh·kw·in·multiplier per output pixel, the same formula.
 */
export function forwardMacsPerImage(model: tfl.LayersModel): number {
  let macs = 0;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls !== 'Conv2D' && cls !== 'Conv2DTranspose' && cls !== 'DepthwiseConv2D') continue;
    const kernel = layer.getWeights()[0]!;
    const [kh, kw, a, b] = kernel.shape as [number, number, number, number];
    const outShape = layer.outputShape as number[];
    const strides = (layer.getConfig().strides as number[] | undefined) ?? [1, 1];
    // A transposed conv multiplies every *input* pixel by the whole kernel.
    const stridePixels = cls === 'Conv2DTranspose' ? strides[0]! * strides[1]! : 1;
    macs += ((outShape[1]! * outShape[2]!) / stridePixels) * kh * kw * a * b;
  }
  return macs;
}

/** Soft Dice + BCE on sigmoid outputs: the loss family the trainer uses, enough to exercise backprop. */
export function benchLoss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const eps = 1e-6;
    const p = tf.clipByValue(yPred, eps, 1 - eps);
    const bce = tf.neg(
      tf.mean(tf.add(tf.mul(yTrue, tf.log(p)), tf.mul(tf.sub(1, yTrue), tf.log(tf.sub(1, p))))),
    );
    const inter = tf.sum(tf.mul(yTrue, p), [0, 1, 2]);
    const denom = tf.add(tf.sum(yTrue, [0, 1, 2]), tf.sum(p, [0, 1, 2]));
    const dice = tf.mean(tf.div(tf.add(tf.mul(2, inter), 1), tf.add(denom, 1)));
    return tf.add(bce, tf.sub(1, dice)) as tf.Scalar;
  });
}
