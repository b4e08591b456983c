/**
 * `tractus segment --workers N`: the same files as with one thread, a crashed worker failing only its
 * scan, cancellation ending the run, and a CLI process that exits when done (no worker left running).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writePng16 } from '../../main/imaging/png';
import { initBackend } from '../../main/model/backend/select';
import { loadOnnxRuntime } from '../../main/model/onnx/runtime';
import { segmentInput } from '../../main/services/segment';
import { writeSyntheticKaggleDataset } from '../../main/synth/datasets';
import { saveTinyVariedModel } from './parallel-infer-fixtures';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CRASH_WORKER = new URL('./parallel-infer-crash-worker.ts', import.meta.url);
const OUTPUTS = ['predictions.json', 'submission.csv', 'images.coco.json'];
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'tractus-segment-workers-'));
let modelDir = '';
const onnxRuntime = await loadOnnxRuntime();

beforeAll(async () => {
  await initBackend('wasm');
  modelDir = await saveTinyVariedModel();
});

async function uwDataset(scans: Array<{ scan: string; slices: number }>): Promise<string> {
  const root = tmp();
  const [w, h] = [36, 30];
  for (const { scan, slices } of scans) {
    const dir = path.join(root, 'train', scan.split('_')[0]!, scan, 'scans');
    mkdirSync(dir, { recursive: true });
    for (let k = 1; k <= slices; k++) {
      const data = Uint16Array.from(
        { length: w * h },
        (_, p) => ((p % w) * (k + 2) * 17 + Math.floor(p / w) * 31 + k * 97) % 2000,
      );
      await writePng16(path.join(dir, `slice_${String(k).padStart(4, '0')}_${w}_${h}_1.50_1.50.png`), {
        width: w,
        height: h,
        data,
      });
    }
  }
  return root;
}

const read = (dir: string, file: string) => readFileSync(path.join(dir, file));

describe('tractus segment --workers 2', () => {
  it('writes byte-identical files to --workers 1; a crashed worker fails only its scan', async () => {
    const root = await uwDataset([
      { scan: 'case7_day3', slices: 8 },
      { scan: 'case8_day1', slices: 3 },
      { scan: 'case9_day2', slices: 5 },
    ]);
    const one = path.join(tmp(), 'one');
    const two = path.join(tmp(), 'two');
    const base = { input: root, modelDir, backend: 'wasm' as const, batch: 2 };
    const s1 = await segmentInput({ ...base, out: one, workers: 1 });
    const s2 = await segmentInput({ ...base, out: two, workers: 2 });
    expect([s1.workers, s2.workers]).toEqual([1, 2]);
    expect(s2.ok).toBe(3);
    for (const file of OUTPUTS) expect(read(two, file).equals(read(one, file)), file).toBe(true);
    expect(JSON.parse(read(one, 'predictions.json').toString()).length).toBeGreaterThan(0);

    // Batches of 3 crash the stand-in worker: with batch 4 only case8_day1 (3 slices) has one.
    const crashed = path.join(tmp(), 'crashed');
    const s3 = await segmentInput({
      ...base,
      batch: 4,
      out: crashed,
      workers: 2,
      inferWorkerUrl: CRASH_WORKER,
    });
    expect(s3.scans.map((s) => s.status)).toEqual(['ok', 'failed', 'ok']);
    expect(s3.scans[1]!.reason).toBe('inference worker stopped unexpectedly (worker exited with code 7)');
    // The scan after the crash ran on a fresh pool and matches the single-thread result.
    const predictions = (dir: string) =>
      (JSON.parse(read(dir, 'predictions.json').toString()) as Array<{ image_id: number }>).filter(
        (p) => p.image_id > 11,
      );
    expect(predictions(crashed)).toEqual(predictions(one));
  });

  it('cancelling terminates the run with the signal reason and writes no part for the scan', async () => {
    const root = await uwDataset([{ scan: 'case7_day3', slices: 12 }]);
    const out = path.join(tmp(), 'out');
    const controller = new AbortController();
    const reason = new Error('cancelled by the test');
    const run = segmentInput({
      input: root,
      out,
      modelDir,
      backend: 'wasm',
      batch: 1,
      workers: 2,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.done === 2) controller.abort(reason);
      },
    });
    await expect(run).rejects.toBe(reason);
    expect(readdirSync(path.join(out, '.parts'))).toEqual([]);
    expect(existsSync(path.join(out, 'summary.json'))).toBe(false);
  });

  it.skipIf(!onnxRuntime.ok)(
    'cancelling an ONNX Runtime run lets each worker finish its forward pass (terminating one inside it aborted the process)',
    async () => {
      const root = path.join(tmp(), 'scan');
      await writeSyntheticKaggleDataset(root, { cases: 1, days: 1, slices: 40, size: 266, seed: 3 });
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'test/unit/segment-cancel-child.ts', root, path.join(tmp(), 'out')],
        { cwd: ROOT },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
        child.on('close', (c, s) => resolve([c, s])),
      );
      expect({ code, signal, stderr: stderr.match(/terminate called.*|Napi::Error.*/)?.[0] }).toEqual({
        code: 0,
        signal: null,
        stderr: undefined,
      });
      expect(stdout.trim().split('\n')).toEqual(Array(6).fill('cancelled'));
    },
    300_000,
  );

  it('workers that cannot start: the run goes on, on this thread, and says so', async () => {
    const root = await uwDataset([{ scan: 'case7_day3', slices: 2 }]);
    const logs: string[] = [];
    const summary = await segmentInput({
      input: root,
      out: path.join(tmp(), 'out'),
      modelDir,
      backend: 'wasm',
      workers: 2,
      inferWorkerUrl: new URL('./no-such-worker.ts', import.meta.url),
      log: (m) => logs.push(m),
    });
    expect([summary.ok, summary.workers]).toEqual([1, 1]);
    expect(logs.join('\n')).toMatch(
      /2 inference workers did not start \(.*no-such-worker.*\); using this thread/,
    );
  });

  it('the CLI process exits by itself after a parallel run (workers closed)', async () => {
    const root = await uwDataset([{ scan: 'case7_day3', slices: 5 }]);
    const out = path.join(tmp(), 'cli');
    const args = ['--import', 'tsx', 'main/cli/index.ts', 'segment', root, '--out', out];
    const flags = ['--model', modelDir, '--backend', 'wasm', '--workers', '2', '--json'];
    const child = spawn(process.execPath, [...args, ...flags], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('still running after 60 s');
      }, 60_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c ?? 'killed');
      });
    });
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as { workers: number; ok: number };
    expect([summary.workers, summary.ok]).toEqual([2, 1]);
  }, 90_000);
});
