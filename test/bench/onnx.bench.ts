/**
 * ONNX Runtime against tfjs, per slice, on the shipped model (models/default, its card's input size) and
 * on the reference U-Net (bench-unet: 1.94 M parameters, 256², the yardstick): ms/slice and
 * GFLOP/s of each engine's bare forward passes at batch 4, then the whole Tractus pipeline on ONNX
 * Runtime (reading, 2.5D, letterbox, post-processing on a 144-slice 266² scan) with the forward pass on
 * this thread or in one worker. "Overhead" compares the pipeline's marginal cost per slice — (time for
 * 144 slices − time for 1) / 143 — with ONNX Runtime alone on the same model.onnx (the 10 % rule).
 */
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import type * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../main/model/backend/select';
import { buildBenchUnet } from '../../main/model/backend/bench-unet';
import { localPredictor, segmentScan, type BatchPredictor } from '../../main/model/infer';
import { DEFAULT_MODEL_DIR, loadModel } from '../../main/model/model-io';
import { exportOnnx, ONNX_FILE } from '../../main/model/onnx/export';
import { createOnnxSession, loadOnnxRuntime, onnxPredictor } from '../../main/model/onnx/runtime';
import { flopsPerSlice } from '../../main/model/onnx/save';
import { startInferencePool } from '../../main/model/parallel/infer-pool';
import type { BenchRow } from './run';
import { syntheticScan } from './segment.bench';

const BATCH = 4;

/** ms per slice of `slices` slices in batches of BATCH (after one warm-up batch). */
async function perSlice(predict: BatchPredictor, perImage: number, slices: number): Promise<number> {
  const x = Float32Array.from({ length: BATCH * perImage }, (_, k) => (Math.sin(k * 0.37) + 1) / 2);
  await predict(x.slice(), BATCH);
  const t0 = performance.now();
  for (let done = 0; done < slices; done += BATCH) await predict(x.slice(), BATCH);
  return (performance.now() - t0) / (Math.ceil(slices / BATCH) * BATCH);
}

function speedRow(name: string, ms: number, flops: number, note: string): BenchRow {
  return {
    name,
    value: Number(ms.toFixed(2)),
    unit: 'ms/slice',
    note: `${(flops / ms / 1e6).toFixed(1)} GFLOP/s; ${note}`,
  };
}

/** Bare forward passes on ONNX Runtime and on the tfjs backend in use, for one model. */
async function engineRows(label: string, model: tfl.LayersModel, tfjsSlices: number): Promise<BenchRow[]> {
  const [, h, w, c] = model.inputs[0]!.shape as number[];
  const perImage = h! * w! * c!;
  const flops = flopsPerSlice(model);
  const rows: BenchRow[] = [];
  const ort = await createOnnxSession(exportOnnx(model));
  const ortMs = await perSlice(onnxPredictor(ort, { height: h!, width: w!, channels: c! }), perImage, 144);
  rows.push(
    speedRow(
      `${label}: ONNX Runtime alone (${ort.provider}, ${ort.threads} threads)`,
      ortMs,
      flops,
      `144 slices, batch ${BATCH}; ${(flops / 1e9).toFixed(2)} GFLOP/slice`,
    ),
  );
  await ort.session.release();
  const backend = await initBackend('auto');
  const card = {
    input: { size: { height: h!, width: w! } },
    architecture: { inChannels: c! },
  } as Parameters<typeof localPredictor>[1];
  const tfjsMs = await perSlice(localPredictor(model, card), perImage, tfjsSlices);
  rows.push(
    speedRow(
      `${label}: tfjs ${backend.name} (1 thread)`,
      tfjsMs,
      flops,
      `${tfjsSlices} slices, batch ${BATCH}`,
    ),
  );
  return rows;
}

export async function bench(): Promise<BenchRow[]> {
  const ortLoad = await loadOnnxRuntime();
  if (!ortLoad.ok) return [{ name: `ONNX Runtime unavailable: ${ortLoad.reason}`, value: 0, unit: '' }];
  await initBackend('auto');
  const rows: BenchRow[] = [];
  const loaded = await loadModel(DEFAULT_MODEL_DIR);
  const shipped = `shipped ${loaded.card.architecture.name} ${loaded.card.input.size.width}²`;
  rows.push(...(await engineRows(shipped, loaded.model, 48)));
  const ref = buildBenchUnet({ size: 256 });
  rows.push(...(await engineRows('reference U-Net 256²', ref, 8)));
  ref.dispose();

  // The pipeline on ONNX Runtime: marginal cost per slice against ONNX Runtime alone on model.onnx.
  const file = path.join(DEFAULT_MODEL_DIR, ONNX_FILE);
  if (existsSync(file)) {
    const session = await createOnnxSession(file);
    const { height, width } = loaded.card.input.size;
    const channels = loaded.card.architecture.inChannels;
    const local = onnxPredictor(session, { height, width, channels });
    const alone = await perSlice(local, height * width * channels, 144);
    const pool = await startInferencePool({ modelDir: loaded.dir, backend: 'onnxruntime', workers: 1 });
    try {
      const modes: Array<[string, () => Parameters<typeof segmentScan>[2]]> = [
        ['this thread', () => ({ batch: BATCH, predict: local })],
        ['1 worker', () => ({ batch: BATCH, predict: pool.predict, inFlight: 2 })],
      ];
      for (const [mode, opts] of modes) {
        await segmentScan(syntheticScan(4), loaded, opts()); // warm-up
        const t1 = performance.now();
        await segmentScan(syntheticScan(1), loaded, opts());
        const one = performance.now() - t1;
        const t144 = performance.now();
        await segmentScan(syntheticScan(144), loaded, opts());
        const all = performance.now() - t144;
        const marginal = (all - one) / 143;
        rows.push({
          name: `segment 266² × 144 on ONNX Runtime (${mode}), ${shipped}`,
          value: Number((all / 1000).toFixed(2)),
          unit: 's/scan',
          note:
            `marginal ${marginal.toFixed(2)} ms/slice vs ONNX Runtime alone ${alone.toFixed(2)} ms/slice: ` +
            `overhead ${((marginal / alone - 1) * 100).toFixed(0)} % (load ${os.loadavg()[0]!.toFixed(1)})`,
        });
      }
    } finally {
      await pool.close();
      await session.session.release();
    }
  } else {
    rows.push({ name: `pipeline rows skipped: ${file} missing`, value: 0, unit: '' });
  }
  loaded.model.dispose();
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await bench()) console.log(JSON.stringify(row));
}
