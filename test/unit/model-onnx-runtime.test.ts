/**
 * ONNX Runtime in the pipeline: model.onnx and flopsPerSlice written beside a model folder (FLOPs
 * checked against a hand count), the start-up choice (missing file → tfjs with the reason told once,
 * stale file → self-check failure, `--backend wasm` → tfjs), and `tractus segment` on ONNX Runtime giving
 * the same masks as on tfjs, through the CLI (exit codes and the summary's backend).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { buildProgram } from '../../main/cli/program';
import { buildModel } from '../../main/model/arch';
import { initBackend } from '../../main/model/backend/select';
import { loadModel, saveModel } from '../../main/model/model-io';
import { chooseOnnx, selfCheckInput } from '../../main/model/onnx/choose';
import { ONNX_FILE } from '../../main/model/onnx/names';
import { loadOnnxRuntime } from '../../main/model/onnx/runtime';
import { writeOnnxBeside } from '../../main/model/onnx/save';
import { startInferencePool } from '../../main/model/parallel/infer-pool';
import { segmentInput } from '../../main/services/segment';
import { REPO_ROOT } from '../helpers/shared-data';
import { tinyCard, TINY_SIDE, TINY_UNET } from '../helpers/tiny-unet';

const ort = await loadOnnxRuntime();
if (!ort.ok) console.warn(`SKIPPED (ONNX Runtime unavailable): ${ort.reason}`);
const describeOrt = ort.ok ? describe : describe.skip;

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'tractus-onnx-'));
const SPEC = TINY_UNET;
const SIDE = TINY_SIDE;

/** A small trained-looking model folder (random weights, random batch-norm statistics). */
async function modelFolder(seed: number): Promise<string> {
  const model = buildModel(SPEC, SIDE);
  model.setWeights(
    model.getWeights().map((w, i) => {
      const u = tf.randomUniform(w.shape, 0, 1, 'float32', seed + i);
      const name = model.weights[i]!.originalName;
      return name.endsWith('variance') ? tf.add(u, 0.5) : tf.sub(u, 0.5);
    }),
  );
  const dir = path.join(tmp(), 'model');
  const card = tinyCard(`onnx-test-${seed}`);
  await saveModel(model, card, dir);
  model.dispose();
  return dir;
}

beforeAll(async () => {
  await initBackend('cpu');
});

describe('model.onnx and flopsPerSlice beside a model folder', () => {
  it('records multiply-adds × 2 of the convolutions, counted by hand', async () => {
    const dir = await modelFolder(1);
    const loaded = await loadModel(dir);
    const written = await writeOnnxBeside(loaded.model, dir);
    loaded.model.dispose();
    const px = SIDE * SIDE;
    const macs =
      px * 9 * 3 * 4 + // enc0_a 3×3, 3 → 4
      px * 9 * 4 * 4 + // enc0_b
      (px / 4) * 9 * 4 * 8 + // enc1_a at half resolution
      (px / 4) * 9 * 8 * 8 + // enc1_b
      px * 9 * (8 + 4) * 4 + // dec0_a after bilinear up-sampling and the skip concat
      px * 9 * 4 * 4 + // dec0_b
      px * 4 * 3; // 1×1 head
    expect(written.flopsPerSlice).toBe(2 * macs);
    const card = JSON.parse(readFileSync(path.join(dir, 'model-card.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(card.flopsPerSlice).toBe(2 * macs);
    expect(existsSync(path.join(dir, ONNX_FILE))).toBe(true);
  });
});

describeOrt('choosing ONNX Runtime at start-up', () => {
  it('falls back to tfjs when model.onnx is missing, telling the reason once', async () => {
    const dir = await modelFolder(2);
    const loaded = await loadModel(dir);
    const told: string[] = [];
    const a = await chooseOnnx(loaded, 'auto', (m) => told.push(m));
    const b = await chooseOnnx(loaded, 'auto', (m) => told.push(m));
    loaded.model.dispose();
    expect(a.ok || b.ok).toBe(false);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatch(/model\.onnx is missing .*tractus models export-onnx/);
  });

  it('uses a fresh model.onnx, and refuses a stale one by its self-check', async () => {
    const dir = await modelFolder(3);
    const loaded = await loadModel(dir);
    await writeOnnxBeside(loaded.model, dir);
    const fresh = await chooseOnnx(loaded, 'auto');
    expect(fresh.ok).toBe(true);
    if (fresh.ok) expect(fresh.maxDiff).toBeLessThanOrEqual(1e-4);
    // Another model's export in its place (weights changed without a re-export): the self-check fails.
    const other = await loadModel(await modelFolder(4));
    await writeOnnxBeside(other.model, other.dir);
    writeFileSync(path.join(dir, ONNX_FILE), readFileSync(path.join(other.dir, ONNX_FILE)));
    // A new card date as well as the new file time: a fresh cache entry whatever the clock's resolution.
    const stale = await chooseOnnx(
      { ...loaded, card: { ...loaded.card, createdAt: '2026-01-01T00:00:00Z' } },
      'auto',
    );
    expect(stale.ok).toBe(false);
    if (!stale.ok) expect(stale.reason).toMatch(/self-check failed: .* differs from the tfjs model/);
    expect((await chooseOnnx(loaded, 'wasm')).ok).toBe(false);
    loaded.model.dispose();
    other.model.dispose();
  });
});

describeOrt('ONNX Runtime in an inference worker (the app keeps its main process free)', () => {
  it('computes what the session on this thread computes', async () => {
    const dir = await modelFolder(6);
    const loaded = await loadModel(dir);
    await writeOnnxBeside(loaded.model, dir);
    const here = await chooseOnnx(loaded, 'onnx');
    loaded.model.dispose();
    expect(here.ok).toBe(true);
    if (!here.ok) return;
    const pool = await startInferencePool({ modelDir: dir, backend: 'onnxruntime', workers: 1 });
    try {
      const x = selfCheckInput(2 * SIDE * SIDE * 3);
      const expected = await here.predict(x.slice(), 2);
      const got = await pool.predict(x.slice(), 2);
      expect(Array.from(got)).toEqual(Array.from(expected));
    } finally {
      await pool.close();
    }
  }, 300_000); // a worker loads tsx, tfjs and ONNX Runtime: minutes on a loaded 2-core machine
});

describeOrt('tractus segment on ONNX Runtime', () => {
  it('gives the masks tfjs gives, and says which backend ran', async () => {
    const dir = await modelFolder(5);
    const input = path.join(REPO_ROOT, 'data/demo');
    const run = async (backend: 'onnx' | 'cpu') => {
      const out = path.join(tmp(), backend);
      const summary = await segmentInput({ input, out, modelDir: dir, backend, batch: 4, workers: 1 });
      return { summary, csv: readFileSync(path.join(out, 'submission.csv'), 'utf8') };
    };
    const tfjs = await run('cpu');
    expect(tfjs.summary.backend).toBe('cpu'); // no model.onnx yet
    const program = buildProgram();
    program.exitOverride();
    await program.parseAsync(['node', 'tractus', 'models', 'export-onnx', dir, '--json']);
    const onnx = await run('onnx');
    expect(onnx.summary.backend).toBe('onnxruntime');
    expect(onnx.summary.ok).toBe(tfjs.summary.ok);
    expect(onnx.summary.scans.map((s) => s.voxels)).toEqual(tfjs.summary.scans.map((s) => s.voxels));
    expect(onnx.csv).toBe(tfjs.csv);
  }, 300_000);

  it('with workers, a stale model.onnx: the workers started beside the self-check give way to tfjs ones', async () => {
    const dir = await modelFolder(7);
    const other = await loadModel(await modelFolder(8));
    await writeOnnxBeside(other.model, other.dir);
    other.model.dispose();
    writeFileSync(path.join(dir, ONNX_FILE), readFileSync(path.join(other.dir, ONNX_FILE)));
    const input = path.join(REPO_ROOT, 'data/demo');
    const lines: string[] = [];
    const run = (backend: 'auto' | 'wasm', out: string) =>
      segmentInput({ input, out, modelDir: dir, backend, workers: 2, log: (l) => lines.push(l) });
    const [auto, wasm] = [tmp(), tmp()];
    const summary = await run('auto', auto);
    expect(lines.join('\n')).toMatch(/ONNX Runtime not used: self-check failed/);
    expect(summary.backend).toBe('wasm');
    expect(summary.workers).toBe(2);
    await run('wasm', wasm);
    const csv = (out: string) => readFileSync(path.join(out, 'submission.csv'), 'utf8');
    expect(csv(auto)).toBe(csv(wasm));
  }, 300_000);
});
