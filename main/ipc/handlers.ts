/**
 * Every API channel's implementation, independent of transport: `createHandlers(ctx)` returns one async
 * function per channel that validates its argument with zod and returns plain JSON. The Electron IPC wiring
 * (main/app) and the loopback HTTP server (./http-server) both dispatch to these.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ArgsOf, Calls, Channel, Events, ResultOf } from '../../preload/api';
import { InputError } from '../core/errors';
import { encodeSliceImage } from '../../preload/wire';
import { WorkspaceStore, defaultWorkspaceDir } from '../workspace/store';
import { fineTuneTitle } from '../model/registry';
import { exportScans, isExportTarget } from '../services/export';
import { resolveRoiNames } from '../export/organ-names';
import { ARG_SCHEMAS } from './schemas';
import type { Engine, TrainingExample } from './engine';
import { JobManager } from './jobs';
import { DatasetSession, sliceDescriber, sliceMasksFromWire, sliceMasksToWire } from './session';
import { SettingsStore } from './settings';
import { thumbnail } from './thumbnail';
import { scanVolume } from './scan-volume';
import { organVolumesMl, organVoxels } from './volumes';

export interface HandlerContext {
  engine: Engine;
  settings: SettingsStore;
  /** Push an event to the user interface. */
  emit<E extends keyof Events>(event: E, payload: Events[E]): void;
  transport: 'electron' | 'http';
  version: string;
  /** Folder of the bundled demo patient. */
  demoDir: string;
  /** Where workspaces live (one sub-folder per dataset). */
  workspaceBase: string;
  /** Name recorded in the audit trail; default the OS user (os.userInfo). */
  user?: string;
}

export type Handler<C extends Channel> = (args: unknown) => Promise<ResultOf<C>>;
export type Handlers = { [C in Channel]: Handler<C> } & {
  /** The open dataset's session (for transports and tests), or null. */
  session(): DatasetSession | null;
  jobs: JobManager;
};

type Impl = { [C in Channel]: (args: ArgsOf<C>) => Promise<ResultOf<C>> };

export function createHandlers(ctx: HandlerContext): Handlers {
  let session: DatasetSession | null = null;
  const jobs = new JobManager((summary) => ctx.emit('job:update', summary));
  /** Fine-tune run folders handed out in this process (two runs started within one second differ). */
  const runFolders = new Set<string>();

  /** Who is at the workstation, for the audit trail. */
  function user(): string {
    if (ctx.user) return ctx.user;
    try {
      return os.userInfo().username;
    } catch {
      // No passwd entry for this uid (some containers): the uid still names the person's account.
      return `uid ${process.getuid?.() ?? 'unknown'}`;
    }
  }

  /** The model a segmentation uses: the active registered one, or `default` (the shipped model). */
  async function activeModelId(): Promise<string> {
    return (await ctx.engine.listModels()).find((m) => m.active)?.id ?? 'default';
  }

  function current(): DatasetSession {
    if (!session) throw new InputError('dataset', 'no dataset is open; open a folder or the demo first');
    return session;
  }

  async function open(root: string, demo: boolean) {
    const dataset = await ctx.engine.openDataset(root, { roiNames: (await ctx.settings.get()).roiNames });
    const store = await WorkspaceStore.open(
      defaultWorkspaceDir(dataset.root, ctx.workspaceBase),
      dataset.root,
      sliceDescriber(dataset),
    );
    session = new DatasetSession(dataset, store, demo);
    if (!demo) await ctx.settings.addRecentFolder(dataset.root);
    return session.summary();
  }

  function scopeScans(s: DatasetSession, scope: 'scan' | 'patient' | 'dataset', id?: string) {
    if (scope === 'dataset') return s.allScans();
    if (!id) throw new InputError(scope, `a ${scope} id is required`);
    if (scope === 'scan') return [s.scan(id)];
    const scans = s.allScans().filter((x) => x.patientId === id);
    if (scans.length === 0) throw new InputError(id, 'no such patient in the open dataset');
    return scans;
  }

  const impl: Impl = {
    'app:info': async () => ({
      version: ctx.version,
      backend: await ctx.engine.backend(),
      transport: ctx.transport,
    }),
    'settings:get': () => ctx.settings.get(),
    'settings:set': (patch) => ctx.settings.set(patch),
    'dataset:open': ({ path: p }) => open(path.resolve(p), false),
    'dataset:openDemo': () => open(ctx.demoDir, true),
    'dataset:current': async () => (session ? session.summary() : null),

    'scan:slice': async ({ scanId, index }) => {
      const scan = current().scan(scanId);
      if (index >= scan.slices.length) throw new InputError(scanId, `slice index ${index} out of range`);
      return encodeSliceImage(await scan.readSlice(index));
    },
    'scan:thumbnails': async ({ scanId, indices, size }) => {
      const scan = current().scan(scanId);
      const out = [];
      for (const index of indices) {
        if (index >= scan.slices.length) throw new InputError(scanId, `slice index ${index} out of range`);
        out.push({ index, image: encodeSliceImage(thumbnail(await scan.readSlice(index), size)) });
      }
      return out;
    },

    'scan:volume': ({ scanId, size }) => scanVolume(current().scan(scanId), size),

    'masks:get': ({ scanId }) => current().scanMasks(scanId),
    'masks:save': async ({ scanId, sliceId, masks, state }) => {
      const s = current();
      const scan = s.scan(scanId);
      const info = scan.slices[s.sliceIndex(scan, sliceId)]!;
      // Decoding proves the runs are consistent and the size is the slice's before anything is written.
      for (const [organ, mask] of Object.entries(sliceMasksFromWire(masks, sliceId))) {
        if (mask && (mask.width !== info.width || mask.height !== info.height)) {
          throw new InputError(
            sliceId,
            `${organ} mask is ${mask.width}×${mask.height}, slice is ${info.width}×${info.height}`,
          );
        }
      }
      // Masks undone back to their layer are no edit: the slice is not "edited" any more.
      const same = await s.sameAsBase(scanId, sliceId, masks);
      const doc = await s.store.saveEdit(scanId, sliceId, masks, state ?? 'edited', same);
      return { version: doc.version, state: doc.states[sliceId] ?? 'auto' };
    },
    'slice:setState': async ({ scanId, sliceId, state }) => {
      const s = current();
      if (state === 'approved') return { state: await s.approveSlice(scanId, sliceId, user()) };
      s.sliceIndex(s.scan(scanId), sliceId);
      const doc = await s.store.setState(scanId, sliceId, state);
      return { state: doc.states[sliceId]! };
    },
    'scan:approve': ({ scanId, approved, viewed, includeUnviewed }) =>
      current().approve(scanId, {
        approved,
        viewed: viewed ?? [],
        includeUnviewed: includeUnviewed ?? false,
        user: user(),
      }),
    'layers:masks': ({ scanId, layer }) => current().layerMasks(scanId, layer),
    'layers:use': async ({ scanId, layer }) => {
      const s = current();
      await s.store.useLayer(scanId, layer, user());
      return s.scanMasks(scanId);
    },
    'segment:check': async ({ scope, id }) => {
      const s = current();
      const out = [];
      for (const scan of scopeScans(s, scope, id)) {
        const h = await s.humanContours(scan.id);
        if (h.truth + h.edited + h.approved > 0) out.push(h);
      }
      return out;
    },
    'scan:volumes': async ({ scanId }) => {
      const s = current();
      const scan = s.scan(scanId);
      const voxels = organVoxels((await s.decodedMasks([scanId])).values());
      return { scanId, voxels, ml: organVolumesMl(scan, voxels) };
    },
    'review:first': ({ scanId, layer }) => current().reviewFirst(scanId, layer),

    'segment:start': async ({ scope, id, resume, replace }) => {
      const s = current();
      const scans = scopeScans(s, scope, id);
      const jobId = jobs.start('segment', { datasetRoot: s.dataset.root }, async (job) => {
        const items = scans.map((x) => ({ scanId: x.id, status: 'queued' as const }));
        const status = items.map((i) => ({
          ...i,
          status: i.status as 'queued' | 'running' | 'done' | 'failed' | 'cancelled',
        }));
        job.setItems(status);
        const total = scans.reduce((n, x) => n + x.slices.length, 0);
        let doneBefore = 0;
        for (const [i, scan] of scans.entries()) {
          if (job.signal.aborted) {
            for (const item of status.slice(i)) item.status = 'cancelled';
            job.setItems(status);
            break;
          }
          const doc = await s.store.load(scan.id);
          if (resume && doc.runs.length > 0) {
            status[i]!.status = 'done';
            doneBefore += scan.slices.length;
            job.setItems(status);
            continue;
          }
          status[i]!.status = 'running';
          job.setItems(status);
          try {
            const predicted = await ctx.engine.segmentScan(scan, {
              signal: job.signal,
              onProgress: (p) => job.progress(doneBefore + p.done, total, scan.id),
            });
            if (job.signal.aborted) {
              status[i]!.status = 'cancelled';
              continue;
            }
            const wire: Record<string, ReturnType<typeof sliceMasksToWire>> = {};
            for (const [sliceId, masks] of predicted.masks) wire[sliceId] = sliceMasksToWire(masks);
            // Human contours stay the working contour unless the user agreed to replace them.
            const h = await s.humanContours(scan.id);
            await s.store.savePredictions(scan.id, wire, await activeModelId(), {
              makeBase: replace === true || h.truth + h.edited + h.approved === 0,
              user: user(),
              uncertainty: predicted.uncertainty,
            });
            status[i]!.status = 'done';
          } catch (e) {
            if (job.signal.aborted) status[i]!.status = 'cancelled';
            else {
              status[i]!.status = 'failed';
              job.setItems(status);
              throw e;
            }
          }
          doneBefore += scan.slices.length;
          job.progress(doneBefore, total, scan.id);
          job.setItems(status);
        }
        return { scans: status };
      });
      return { jobId };
    },

    'train:start': async ({ epochs, include }) => {
      const s = current();
      const examples: TrainingExample[] = [];
      for (const scan of s.allScans()) {
        const m = await s.scanMasks(scan.id);
        scan.slices.forEach((slice, sliceIndex) => {
          const state = m.states[slice.id];
          const wire = m.masks[slice.id];
          // A reviewed slice without any mask is a lesson too: "no organ here".
          if (state && state !== 'auto' && include.includes(state)) {
            examples.push({ scan, sliceIndex, masks: wire ? sliceMasksFromWire(wire, slice.id) : {} });
          }
        });
      }
      if (examples.length === 0) {
        throw new InputError(
          'fine-tune',
          `no ${include.join(' or ')} slices to learn from; correct or approve some first`,
        );
      }
      // One folder per run in the workspace: the training set and the model stay together with the edits.
      const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
      let workDir = path.join(s.store.dir, 'training', stamp);
      for (let n = 2; existsSync(workDir) || runFolders.has(workDir); n++) {
        workDir = path.join(s.store.dir, 'training', `${stamp}-${n}`);
      }
      runFolders.add(workDir);
      const perScan = new Map<string, number>();
      for (const e of examples) perScan.set(e.scan.id, (perScan.get(e.scan.id) ?? 0) + 1);
      const title = fineTuneTitle(new Date(), perScan);
      const jobId = jobs.start('train', { datasetRoot: s.dataset.root }, async (job) => {
        job.progress(0, epochs, `preparing ${examples.length} slices`);
        const result = await ctx.engine.train({
          examples,
          workDir,
          name: title.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 60),
          title,
          epochs,
          signal: job.signal,
          onStep: (p) => {
            if (p.phase === 'prepare') return;
            // Fractional epochs keep the bar moving within an epoch.
            job.progress(p.epoch - 1 + p.step / Math.max(1, p.steps), epochs, `epoch ${p.epoch}/${epochs}`);
          },
          onEpoch: (e) => {
            job.addEpoch(e);
            ctx.emit('train:epoch', { jobId, ...e });
            const dice = e.valMeanDice === null ? '' : ` · val Dice ${e.valMeanDice.toFixed(3)}`;
            job.progress(e.epoch, epochs, `epoch ${e.epoch}/${epochs} · loss ${e.loss.toFixed(3)}${dice}`);
          },
        });
        return result;
      });
      return { jobId };
    },

    'export:start': async ({ format, outDir }) => {
      const s = current();
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const dir = outDir ? path.resolve(outDir) : path.join(s.store.dir, 'exports', stamp);
      const jobId = jobs.start('export', { datasetRoot: s.dataset.root }, async (job) => {
        const scans = s.allScans();
        job.progress(0, 2, 'collecting masks');
        const masks = await s.decodedMasks(scans.map((x) => x.id));
        job.progress(1, 2, 'writing');
        let files: string[];
        if (format === 'coco') {
          const file = path.join(dir, 'annotations.coco.json');
          const ids = scans.map((x) => x.id);
          await ctx.engine.writeCoco(file, s.dataset, masks, await s.exportReview(ids, user()));
          files = [file];
        } else if (format === 'kaggle-csv') {
          const file = path.join(dir, 'masks.csv');
          await ctx.engine.writeKaggleCsv(file, s.dataset, masks);
          files = [file];
        } else if (isExportTarget(format)) {
          // The reviewed contours (MANUAL), in the same files `tractus export` writes, named as the clinic set.
          const names = resolveRoiNames((await ctx.settings.get()).roiNames, 'settings: ROI names');
          const summary = await exportScans({
            dataset: s.dataset,
            masks,
            targets: [format],
            out: path.join(dir, format),
            algorithm: 'MANUAL',
            names,
          });
          files = summary.files;
        } else {
          files = await ctx.engine.writePngMasks(path.join(dir, 'masks-png'), s.dataset, masks);
        }
        job.progress(2, 2, 'done');
        return { format, files };
      });
      return { jobId };
    },

    'job:cancel': async ({ jobId }) => ({ cancelled: jobs.cancel(jobId) }),
    'job:get': async ({ jobId }) => jobs.get(jobId),
    'jobs:list': async () => jobs.list(),
    'models:list': () => ctx.engine.listModels(),
    'models:activate': ({ id }) => ctx.engine.activateModel(id),
    'models:rollback': () => ctx.engine.rollbackModel(),
  };

  const handlers = {} as Record<Channel, Handler<Channel>>;
  for (const channel of Object.keys(impl) as Channel[]) {
    handlers[channel] = async (raw: unknown) => {
      const parsed = ARG_SCHEMAS[channel].safeParse(raw ?? {});
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new InputError(
          channel,
          `invalid arguments: ${issue?.path.join('.') || '(root)'} ${issue?.message}`,
        );
      }
      return (impl[channel] as (a: unknown) => Promise<unknown>)(parsed.data) as Promise<
        Calls[Channel]['result']
      >;
    };
  }
  return Object.assign(handlers as { [C in Channel]: Handler<C> }, { session: () => session, jobs });
}

export function isChannel(name: string): name is Channel {
  return Object.prototype.hasOwnProperty.call(ARG_SCHEMAS, name);
}
