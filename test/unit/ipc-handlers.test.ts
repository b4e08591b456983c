/**
 * The transport-free handlers and the loopback server, driven with a small in-memory engine: argument
 * validation, autosave that survives a restart, kept versions, jobs with progress and cancel, and the
 * server's token and host checks.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Dataset, Scan, SliceMasks } from '../../main/core/types';
import { InputError } from '../../main/core/errors';
import type { Engine } from '../../main/ipc/engine';
import { createHandlers, type Handlers } from '../../main/ipc/handlers';
import { startLoopbackServer } from '../../main/ipc/http-server';
import { SettingsStore } from '../../main/ipc/settings';
import type { Events, JobSummary } from '../../preload/api';
import { decodeMask, encodeMask } from '../../preload/wire';

const W = 8;
const H = 6;

function fakeScan(id: string, n: number): Scan {
  const [patientId, day] = id.split('_') as [string, string];
  return {
    id,
    patientId,
    studyId: id,
    day,
    width: W,
    height: H,
    pixelSpacing: [1.5, 1.5],
    sliceThickness: 3,
    intensity: 'uint16',
    source: 'png',
    slices: Array.from({ length: n }, (_, i) => ({
      id: `${id}_slice_${String(i + 1).padStart(4, '0')}`,
      number: i + 1,
      width: W,
      height: H,
    })),
    async readSlice(i) {
      return { width: W, height: H, data: Uint16Array.from({ length: W * H }, (_, k) => k + i * 100) };
    },
  };
}

function fakeEngine(gate?: Promise<void>): Engine & { segmented: string[] } {
  const scans = [fakeScan('case1_day1', 3), fakeScan('case1_day2', 2)];
  const dataset: Dataset = {
    root: '/data/fake',
    patients: [
      {
        id: 'case1',
        studies: scans.map((s) => ({ id: s.id, patientId: 'case1', day: s.day, scans: [s] })),
      },
    ],
    masks: new Map(),
  };
  const segmented: string[] = [];
  return {
    segmented,
    openDataset: async (root) => {
      if (root.includes('missing')) throw new InputError(root, 'folder not found');
      return dataset;
    },
    backend: async () => ({ name: 'fake' }),
    async segmentScan(scan, { signal, onProgress }) {
      const out = new Map<string, SliceMasks>();
      const uncertainty: Record<string, number> = {};
      for (const [i, s] of scan.slices.entries()) {
        if (gate) await gate;
        if (signal.aborted) break;
        const data = new Uint8Array(W * H);
        data[0] = 1;
        out.set(s.id, { stomach: { width: W, height: H, data } });
        uncertainty[s.id] = [0.2, 0.6, 0.4][i % 3]!;
        onProgress({ done: i + 1, total: scan.slices.length });
      }
      segmented.push(scan.id);
      return { masks: out, uncertainty };
    },
    train: async ({ workDir, title }) => ({
      modelId: null,
      title,
      comparison: null,
      baseModelId: null,
      trainingSet: path.join(workDir, 'data', 'annotations.coco.json'),
      outDir: workDir,
      slices: 0,
      validationPatients: 0,
      history: [],
      cancelled: false,
      backend: 'fake',
    }),
    listModels: async () => [],
    activateModel: async () => [],
    rollbackModel: async () => [],
    writeCoco: async () => {},
    writeKaggleCsv: async () => {},
    writePngMasks: async () => [],
  };
}

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'tractus-ipc-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function handlersWith(engine: Engine, events: Array<[keyof Events, unknown]> = []): Handlers {
  return createHandlers({
    engine,
    settings: new SettingsStore(path.join(tmp, 'settings.json')),
    emit: (e, p) => events.push([e, p]),
    transport: 'http',
    version: 'test',
    demoDir: '/data/demo',
    workspaceBase: tmp,
  });
}

const stomachAt = (...pixels: number[]) => {
  const data = new Uint8Array(W * H);
  for (const p of pixels) data[p] = 1;
  return { stomach: encodeMask({ width: W, height: H, data }) };
};

describe('handlers', () => {
  it('reject invalid arguments with an InputError naming the channel', async () => {
    const h = handlersWith(fakeEngine());
    await expect(h['scan:slice']({ scanId: 'x', index: -1 })).rejects.toThrow(
      /scan:slice: invalid arguments: index/,
    );
    await expect(h['masks:save']({ scanId: 'a', sliceId: 'b', masks: {}, extra: 1 })).rejects.toBeInstanceOf(
      InputError,
    );
    await expect(h['scan:slice']({ scanId: 'case1_day1', index: 0 })).rejects.toThrow(/no dataset is open/);
    await expect(h['dataset:open']({ path: '/missing' })).rejects.toThrow(/folder not found/);
  });

  it('serve pixels exactly and refuse out-of-range slices', async () => {
    const h = handlersWith(fakeEngine());
    await h['dataset:open']({ path: '/data/fake' });
    const wire = await h['scan:slice']({ scanId: 'case1_day1', index: 2 });
    expect(wire.dtype).toBe('uint16');
    const bytes = Buffer.from(wire.data, 'base64');
    expect(bytes.readUInt16LE(2 * 5)).toBe(205);
    await expect(h['scan:slice']({ scanId: 'case1_day1', index: 3 })).rejects.toThrow(/out of range/);
    await expect(h['scan:slice']({ scanId: 'nope', index: 0 })).rejects.toThrow(/no such scan/);
  });

  it('autosave survives a restart, keeps earlier versions and counts volumes in mL', async () => {
    const h1 = handlersWith(fakeEngine());
    await h1['dataset:open']({ path: '/data/fake' });
    const sliceId = 'case1_day1_slice_0002';
    await h1['masks:save']({ scanId: 'case1_day1', sliceId, masks: stomachAt(1, 2, 3) });
    const saved = await h1['masks:save']({ scanId: 'case1_day1', sliceId, masks: stomachAt(1, 2, 3, 4) });
    expect(saved).toEqual({ version: 2, state: 'edited' });
    // 4 pixels × 1.5 mm × 1.5 mm × 3 mm = 27 mm³ = 0.027 mL
    const vol = await h1['scan:volumes']({ scanId: 'case1_day1' });
    expect(vol.voxels.stomach).toBe(4);
    expect(vol.ml.stomach).toBeCloseTo(0.027, 10);

    const h2 = handlersWith(fakeEngine()); // a new process: nothing in memory
    await h2['dataset:open']({ path: '/data/fake' });
    const m = await h2['masks:get']({ scanId: 'case1_day1' });
    expect(m.states[sliceId]).toBe('edited');
    expect(m.sources[sliceId]).toBe('workspace');
    const restored = decodeMask(m.masks[sliceId]!.stomach!).data;
    expect([...restored.keys()].filter((k) => restored[k])).toEqual([1, 2, 3, 4]);
    const summary = await h2['dataset:current']({});
    const versions = await readdir(path.join(summary!.workspace, 'versions', 'case1_day1'));
    expect(versions).toEqual(['000001.coco.json']);
  });

  it('refuse masks of the wrong size; a damaged workspace file is reported, not fatal', async () => {
    const h = handlersWith(fakeEngine());
    const summary = await h['dataset:open']({ path: '/data/fake' });
    const wrong = { stomach: encodeMask({ width: 4, height: 4, data: new Uint8Array(16) }) };
    await expect(
      h['masks:save']({ scanId: 'case1_day1', sliceId: 'case1_day1_slice_0001', masks: wrong }),
    ).rejects.toThrow(/mask is 4×4, slice is 8×6/);
    const file = path.join(summary.workspace, 'scans', 'case1_day2.coco.json');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, '{"format":"tractus-scan"');
    // Read back on the next start: the dataset opens, the damaged file is named in the warnings.
    const restarted = handlersWith(fakeEngine());
    const reopened = await restarted['dataset:open']({ path: '/data/fake' });
    expect(reopened.warnings).toHaveLength(1);
    expect(reopened.warnings[0]!.where).toBe(file);
    expect(reopened.warnings[0]!.problem).toMatch(/not valid JSON/);
  });

  it('segment a patient as a job with per-scan progress, then resume skips finished scans', async () => {
    const events: Array<[keyof Events, unknown]> = [];
    const engine = fakeEngine();
    const h = handlersWith(engine, events);
    await h['dataset:open']({ path: '/data/fake' });
    const { jobId } = await h['segment:start']({ scope: 'patient', id: 'case1' });
    const done = await h.jobs.settled(jobId);
    expect(done.status).toBe('done');
    expect(done.done).toBe(5);
    expect(done.items).toEqual([
      { scanId: 'case1_day1', status: 'done' },
      { scanId: 'case1_day2', status: 'done' },
    ]);
    expect(events.some(([e, p]) => e === 'job:update' && (p as JobSummary).status === 'done')).toBe(true);
    const m = await h['masks:get']({ scanId: 'case1_day2' });
    expect(m.sources['case1_day2_slice_0001']).toBe('prediction');
    // the run's uncertainty is kept with it in the workspace: review the most uncertain slices first
    const first = await h['review:first']({ scanId: 'case1_day1' });
    expect(first.layer).toBe('run:1');
    expect(first.slices).toEqual([
      { sliceId: 'case1_day1_slice_0002', uncertainty: 0.6 },
      { sliceId: 'case1_day1_slice_0003', uncertainty: 0.4 },
      { sliceId: 'case1_day1_slice_0001', uncertainty: 0.2 },
    ]);
    await expect(h['review:first']({ scanId: 'case1_day1', layer: 'run:9' })).rejects.toThrow(
      /no such model run/,
    );
    const again = await h['segment:start']({ scope: 'dataset', resume: true });
    await h.jobs.settled(again.jobId);
    expect(engine.segmented).toEqual(['case1_day1', 'case1_day2']);
  });

  it('cancel a running job by id', async () => {
    let open!: () => void;
    const engine = fakeEngine(new Promise((r) => (open = r)));
    const h = handlersWith(engine);
    await h['dataset:open']({ path: '/data/fake' });
    const { jobId } = await h['segment:start']({ scope: 'dataset' });
    expect(await h['job:cancel']({ jobId })).toEqual({ cancelled: true });
    open();
    const job = await h.jobs.settled(jobId);
    expect(job.status).toBe('cancelled');
    expect(job.items!.map((i) => i.status)).toEqual(['cancelled', 'cancelled']);
  });

  it('mask runs that do not add up are an InputError, never a crash (fuzz)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -3, max: 60 }), { maxLength: 12 }), (runs) => {
        try {
          const m = decodeMask({ width: W, height: H, runs }, 'fuzz');
          expect(m.data.length).toBe(W * H);
        } catch (e) {
          expect(e).toBeInstanceOf(InputError);
        }
      }),
    );
  });
});

describe('loopback server', () => {
  it('requires the token and a loopback Host, answers calls and streams events', async () => {
    const h = handlersWith(fakeEngine());
    const server = await startLoopbackServer({ rendererDir: tmp, handlers: () => h, token: 'secret-token' });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const call = (init: RequestInit & { headers?: Record<string, string> }, url = `${base}/api/app:info`) =>
        fetch(url, { method: 'POST', body: '{}', ...init });
      expect((await call({})).status).toBe(401);
      expect((await call({ headers: { authorization: 'Bearer wrong-token!' } })).status).toBe(401);
      const ok = await call({ headers: { authorization: 'Bearer secret-token' } });
      expect(await ok.json()).toEqual({
        result: { version: 'test', backend: { name: 'fake' }, transport: 'http' },
      });
      const bad = await call(
        { headers: { authorization: 'Bearer secret-token' }, body: '{"index":1}' },
        `${base}/api/scan:slice`,
      );
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ where: 'scan:slice' });
      // The page URL's token becomes an HttpOnly same-site cookie for the assets that follow.
      await writeFile(path.join(tmp, 'index.html'), '<!doctype html><title>t</title>');
      const page = await fetch(`${base}/?token=secret-token`);
      expect(page.headers.get('set-cookie')).toMatch(/tractus_token=secret-token; HttpOnly; SameSite=Strict/);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
      const viaCookie = await call({ headers: { cookie: 'tractus_token=secret-token' } });
      expect(viaCookie.status).toBe(200);
      // DNS rebinding: a foreign Host header is refused even with the token.
      const { request } = await import('node:http');
      const status = await new Promise<number>((resolve) => {
        request(
          `${base}/api/app:info`,
          { method: 'POST', headers: { host: 'evil.example:80', authorization: 'Bearer secret-token' } },
          (r) => resolve(r.statusCode ?? 0),
        ).end('{}');
      });
      expect(status).toBe(403);
      // Server-sent events reach a subscribed client.
      const controller = new AbortController();
      const stream = await fetch(`${base}/api/events`, {
        headers: { authorization: 'Bearer secret-token' },
        signal: controller.signal,
      });
      const reader = stream.body!.getReader();
      await reader.read(); // ": connected"
      server.broadcast('menu', { command: 'undo' });
      const { value } = await reader.read();
      expect(new TextDecoder().decode(value)).toBe('event: menu\ndata: {"command":"undo"}\n\n');
      controller.abort();
    } finally {
      await server.close();
    }
  });
});
