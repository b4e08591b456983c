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
import { RECORDED_CHECK_FILE } from '../../main/model/onnx/recorded-check';
import { localPredictor } from '../../main/model/infer';
import { MODEL_JSON_FILE, WEIGHTS_BIN_FILE } from '../../main/model/model-io';
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

describeOrt('the self-check recorded beside model.onnx', () => {
  it("holds tfjs's output, and stands in for tfjs only while model.onnx and the tfjs files are the ones it was made from", async () => {
    const dir = await modelFolder(9);
    const loaded = await loadModel(dir);
    await writeOnnxBeside(loaded.model, dir);
    const recordFile = path.join(dir, RECORDED_CHECK_FILE);
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as { stride: number; expected: number[] };
    // tfjs's own output on the self-check slice, at the recorded positions
    const x = selfCheckInput(SIDE * SIDE * 3);
    const tfjs = await localPredictor(loaded.model, loaded.card)(x, 1);
    expect(record.expected).toHaveLength(Math.ceil(tfjs.length / record.stride));
    record.expected.forEach((v, k) => expect(v).toBe(tfjs[k * record.stride]));
    // A fresh cache entry per case: a new card date (see above).
    const check = (createdAt: string, against?: 'tfjs') =>
      chooseOnnx({ ...loaded, card: { ...loaded.card, createdAt } }, 'auto', undefined, { against });
    const fromRecord = await check('2026-02-01T00:00:00Z');
    expect(fromRecord.ok && fromRecord.against).toBe('record');
    if (fromRecord.ok) expect(fromRecord.maxDiff).toBeLessThanOrEqual(1e-4);
    const live = await check('2026-02-02T00:00:00Z', 'tfjs');
    expect(live.ok && live.against).toBe('tfjs');
    // The record is what ONNX Runtime is compared with: a value it does not reproduce fails the check.
    writeFileSync(
      recordFile,
      JSON.stringify({ ...record, expected: record.expected.map((v, k) => (k === 3 ? v + 0.01 : v)) }),
    );
    const tampered = await check('2026-02-03T00:00:00Z');
    expect(tampered.ok).toBe(false);
    if (!tampered.ok)
      expect(tampered.reason).toMatch(/differs from the recorded output of the tfjs model by 1\.0e-2/);
    // An unreadable record: tfjs computes its side again.
    writeFileSync(recordFile, '{ not json');
    const unreadable = await check('2026-02-04T00:00:00Z');
    expect(unreadable.ok && unreadable.against).toBe('tfjs');
    // Other tfjs weights under the same model.onnx and record (weights replaced without a re-export): the
    // record no longer vouches for the folder, tfjs runs, and the stale model.onnx is refused.
    await writeOnnxBeside(loaded.model, dir);
    const other = await modelFolder(10);
    for (const f of [MODEL_JSON_FILE, WEIGHTS_BIN_FILE])
      writeFileSync(path.join(dir, f), readFileSync(path.join(other, f)));
    const replaced = await loadModel(dir);
    const stale = await chooseOnnx(
      { ...replaced, card: { ...replaced.card, createdAt: '2026-02-05T00:00:00Z' } },
      'auto',
    );
    expect(stale.ok).toBe(false);
    if (!stale.ok) expect(stale.reason).toMatch(/self-check failed: .* differs from the tfjs model/);
    loaded.model.dispose();
    replaced.model.dispose();
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
