/**
 * The ONNX exporter against tfjs itself: small instances of every architecture (compact U-Net with both
 * up-samplings and an odd aspect, EfficientNet-U-Net with depthwise convs, swish, SE blocks, batch norm,
 * the benchmark U-Net) get random batch-norm statistics (so folding is really exercised), are exported,
 * run by ONNX Runtime and compared with tfjs-cpu on the same random inputs: max |Δp| ≤ 1e-4.
 * Without a working onnxruntime-node the comparison suite is skipped with the reason.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { buildModel, type ArchSpec } from '../../main/model/arch';
import { mergeMembers } from '../../main/model/arch/ensemble';
import { TINY_SIDE, TINY_UNET } from '../helpers/tiny-unet';
import { buildBenchUnet } from '../../main/model/backend/bench-unet';
import { exportOnnx, OnnxExportError } from '../../main/model/onnx/export';
import { createOnnxSession, loadOnnxRuntime, onnxPredictor } from '../../main/model/onnx/runtime';

const ort = await loadOnnxRuntime();
if (!ort.ok) console.warn(`SKIPPED (ONNX Runtime unavailable): ${ort.reason}`);
const describeOrt = ort.ok ? describe : describe.skip;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Batch-norm layers get random gamma, beta, mean and a positive variance (fresh ones are identity). */
function randomiseBatchNorms(model: tfl.LayersModel, seed: number): void {
  let s = seed;
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const ws = layer.getWeights();
    layer.setWeights(
      ws.map((w, i) => {
        const name = layer.weights[i]!.originalName;
        const u = tf.randomUniform(w.shape, 0, 1, 'float32', s++);
        const v = name.endsWith('variance')
          ? tf.add(0.2, u)
          : name.endsWith('gamma')
            ? tf.add(0.5, u)
            : tf.sub(tf.mul(u, 0.4), 0.2);
        u.dispose();
        return v;
      }),
    );
  }
  // The output conv starts at the −4 foreground prior, where sigmoid flattens differences: centre and
  // spread its logits so the comparison sees probabilities across (0, 1).
  const head = model.layers[model.layers.length - 1]!;
  const [kernel, bias] = head.getWeights();
  head.setWeights([tf.mul(kernel!, 4), tf.zerosLike(bias!)]);
}

/** `randomised`: the caller has randomised the batch norms (an ensemble's members, before merging). */
async function compare(
  model: tfl.LayersModel,
  batch: number,
  seed: number,
  randomised = false,
): Promise<number> {
  if (!randomised) randomiseBatchNorms(model, seed);
  const [, h, w, c] = model.inputs[0]!.shape as number[];
  const x = tf.randomUniform([batch, h!, w!, c!], 0, 1, 'float32', seed);
  const ref = tf.tidy(() => model.predict(x) as tf.Tensor);
  const expected = ref.dataSync() as Float32Array;
  const session = await createOnnxSession(exportOnnx(model), { threads: 1, providers: [] });
  const got = await onnxPredictor(session, { height: h!, width: w!, channels: c! })(
    x.dataSync() as Float32Array,
    batch,
  );
  await session.session.release();
  x.dispose();
  ref.dispose();
  expect(got.length).toBe(expected.length);
  let maxDiff = 0;
  for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
  // A near-constant output would make any exporter look right.
  // (buildModel's weights are seeded, so the spread is the same on every run; the benchmark U-Net's vary.)
  expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(0.25);
  return maxDiff;
}

const CASES: Array<{ label: string; spec: ArchSpec; size: { height: number; width: number } }> = [
  {
    label: 'compact U-Net, transposed-conv up-sampling, 48×32',
    spec: { name: 'unet', filters: [4, 8, 16], upsampling: 'transpose', inChannels: 3, outChannels: 3 },
    size: { height: 48, width: 32 },
  },
  {
    label: 'compact U-Net, bilinear up-sampling (the shipped kind), 5 levels',
    spec: { name: 'unet', filters: [4, 6, 8, 10, 12], upsampling: 'bilinear', inChannels: 3, outChannels: 3 },
    size: { height: 32, width: 64 },
  },
  {
    label: 'EfficientNet-B0 U-Net, bilinear decoder',
    spec: { name: 'effunet', variant: 'b0', decoderFilters: [16, 8, 8, 8, 8], inChannels: 3, outChannels: 3 },
    size: { height: 64, width: 32 },
  },
  {
    label: 'EfficientNet-B1 U-Net, transposed-conv decoder',
    spec: {
      name: 'effunet',
      variant: 'b1',
      decoderFilters: [8, 8, 8, 8, 8],
      upsampling: 'transpose',
      inChannels: 3,
      outChannels: 3,
    },
    size: { height: 32, width: 32 },
  },
];

describeOrt('ONNX export matches tfjs', () => {
  for (const [i, c] of CASES.entries()) {
    it(`${c.label}: max |Δp| ≤ 1e-4`, async () => {
      const model = buildModel(c.spec, c.size, 11 + i);
      const diff = await compare(model, 2, 11 + i);
      model.dispose();
      expect(diff).toBeLessThanOrEqual(1e-4);
    });
  }

  it('an ensemble of two compact U-Nets, one merged graph (Mean of the maps): max |Δp| ≤ 1e-4', async () => {
    const members = [buildModel(TINY_UNET, TINY_SIDE, 1), buildModel(TINY_UNET, TINY_SIDE, 2)];
    members.forEach((m, i) => randomiseBatchNorms(m, 40 + 10 * i));
    const merged = mergeMembers(members);
    const diff = await compare(merged, 2, 7, true);
    for (const m of [...members, merged]) m.dispose();
    expect(diff).toBeLessThanOrEqual(1e-4);
  });

  it('the benchmark U-Net (ReLU layers, skip concatenated first): max |Δp| ≤ 1e-4', async () => {
    const model = buildBenchUnet({ size: 32, filters: [4, 8, 16] });
    const diff = await compare(model, 3, 5);
    model.dispose();
    expect(diff).toBeLessThanOrEqual(1e-4);
  });
});

describe('ONNX export errors', () => {
  it('names the layer it cannot map', () => {
    const input = tfl.input({ shape: [8, 8, 3] });
    const out = tfl.layers.dense({ units: 2, name: 'fc' }).apply(input) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: out });
    expect(() => exportOnnx(model)).toThrow(OnnxExportError);
    expect(() => exportOnnx(model)).toThrow(/layer fc \(Dense\)/);
    model.dispose();
  });
});
