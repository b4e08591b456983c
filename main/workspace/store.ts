/**
 * The clinician's workspace: corrected masks, model predictions, review state and edit history of every
 * scan, kept beside (never inside) the read-only dataset. One file per scan, a COCO dataset of the
 * corrected slices with the review state and history in its `tractus` block (./coco-document), written
 * atomically on every autosave; the previous file is kept as a numbered version.
 *
 * Layout:  <dir>/workspace.json                         what dataset this is for
 *          <dir>/scans/<scanId>.coco.json               current document
 *          <dir>/versions/<scanId>/<n>.coco.json        earlier documents, the newest MAX_VERSIONS kept
 *          <dir>/versions/<scanId>/legacy-v1.json       a version-1 file, kept after migrating it
 *          <dir>/damaged/<scanId>.<time>.json           a file that could not be read, set aside
 *
 * A damaged or unreadable scan file never stops the dataset from opening: it is moved to damaged/, the
 * newest readable version takes its place, and the problem is reported through `problems()`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import os from 'node:os';
import { InputError, isInputError } from '../core/errors';
import type { DatasetWarning } from '../core/types';
import { readJsonOrExplain, writeJsonAtomic } from '../io/files';
import type { SliceMasksWire, SliceState } from '../../preload/api';
import {
  scanDocumentFromCoco,
  scanDocumentToCoco,
  type AnnotationCache,
  type DescribeSlice,
} from './coco-document';
import { addRun, runOf, runsFromLegacy, useLayer } from './layers';
import {
  scanDocumentSchema,
  workspaceInfoSchema,
  type ScanDocument,
  type HistoryEntry,
  type LayerId,
} from './schema';

export const MAX_VERSIONS = 50;
export const MAX_HISTORY = 1000;

export function emptyScanDocument(scanId: string): ScanDocument {
  return {
    format: 'tractus-scan',
    formatVersion: 3,
    scanId,
    version: 0,
    approved: false,
    states: {},
    edits: {},
    history: [],
    runs: [],
    base: 'truth',
    shelved: [],
    viewed: [],
    audit: [],
  };
}

/** Where the workspace of a dataset lives when the user did not choose: per user, keyed by the dataset path. */
export function defaultWorkspaceDir(datasetRoot: string, base = path.join(os.homedir(), '.tractus')): string {
  const key = createHash('sha256').update(path.resolve(datasetRoot)).digest('hex').slice(0, 16);
  return path.join(base, 'workspaces', `${path.basename(datasetRoot) || 'dataset'}-${key}`);
}

const VERSION_RE = /^(\d+)\.coco\.json$/;

function versionName(version: number): string {
  return `${String(version).padStart(6, '0')}.coco.json`;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/** A version-1 file (`scans/<scanId>.json`, written by earlier builds). */
async function readLegacyFile(file: string, scanId: string): Promise<ScanDocument> {
  const parsed = scanDocumentSchema.safeParse(await readJsonOrExplain(file));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      file,
      `not a valid workspace scan document (${issue?.path.join('.')}: ${issue?.message})`,
    );
  }
  if (parsed.data.scanId !== scanId) throw new InputError(file, `belongs to scan ${parsed.data.scanId}`);
  const { predictions, ...rest } = parsed.data;
  return {
    ...rest,
    formatVersion: 3,
    ...runsFromLegacy(predictions, rest.history),
    shelved: [],
    viewed: [],
    audit: [],
  };
}

/** Scan ids become file names: refuse anything that could leave the folder. */
function safeName(scanId: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(scanId) || scanId.startsWith('.')) {
    throw new InputError(scanId, 'scan id cannot be used as a file name');
  }
  return scanId;
}

export class WorkspaceStore {
  private readonly cache = new Map<string, ScanDocument>();
  /** Saves of one scan run one after another so versions never interleave. */
  private readonly queues = new Map<string, Promise<unknown>>();

  private readonly reported: DatasetWarning[] = [];
  private readonly reading = new Map<string, Promise<ScanDocument>>();
  private readonly encoded: AnnotationCache = new WeakMap();

  private constructor(
    readonly dir: string,
    readonly datasetRoot: string,
    private readonly describe: DescribeSlice,
  ) {}

  /**
   * Open (or create) the workspace in `dir`. `describe` gives each slice's dataset-relative file name and
   * size, the COCO image entry of a corrected slice.
   */
  static async open(
    dir: string,
    datasetRoot: string,
    describe: DescribeSlice = () => undefined,
  ): Promise<WorkspaceStore> {
    const infoFile = path.join(dir, 'workspace.json');
    let exists = true;
    try {
      await fs.access(infoFile);
    } catch {
      exists = false;
    }
    if (exists) {
      const parsed = workspaceInfoSchema.safeParse(await readJsonOrExplain(infoFile));
      if (!parsed.success) throw new InputError(infoFile, 'not a Tractus workspace file');
    } else {
      await writeJsonAtomic(
        infoFile,
        { format: 'tractus-workspace', formatVersion: 1, datasetRoot, createdAt: new Date().toISOString() },
        true,
      );
    }
    return new WorkspaceStore(dir, datasetRoot, describe);
  }

  private scanFile(scanId: string): string {
    return path.join(this.dir, 'scans', `${safeName(scanId)}.coco.json`);
  }

  private legacyFile(scanId: string): string {
    return path.join(this.dir, 'scans', `${safeName(scanId)}.json`);
  }

  private versionsDir(scanId: string): string {
    return path.join(this.dir, 'versions', safeName(scanId));
  }

  /** Problems met while reading the workspace (damaged files set aside), for the user to see. */
  problems(): DatasetWarning[] {
    return this.reported.map((p) => ({ ...p }));
  }

  async load(scanId: string): Promise<ScanDocument> {
    const cached = this.cache.get(scanId);
    if (cached) return cached;
    // Concurrent first loads share one read, so a damaged file is set aside and reported once.
    let reading = this.reading.get(scanId);
    if (!reading) {
      reading = this.readCurrent(scanId).finally(() => this.reading.delete(scanId));
      this.reading.set(scanId, reading);
    }
    const doc = await reading;
    if (!this.cache.has(scanId)) this.cache.set(scanId, doc);
    return this.cache.get(scanId)!;
  }

  /** The scan's document from its file, a version-1 file, or (when damaged) the newest good version. */
  private async readCurrent(scanId: string): Promise<ScanDocument> {
    const file = this.scanFile(scanId);
    if (await exists(file)) {
      try {
        return await this.readCocoFile(file, scanId);
      } catch (e) {
        if (!isInputError(e)) throw e;
        return this.recover(scanId, file, e);
      }
    }
    const legacy = this.legacyFile(scanId);
    if (await exists(legacy)) {
      try {
        return await readLegacyFile(legacy, scanId);
      } catch (e) {
        if (!isInputError(e)) throw e;
        return this.recover(scanId, legacy, e);
      }
    }
    return emptyScanDocument(scanId);
  }

  private async readCocoFile(file: string, scanId: string): Promise<ScanDocument> {
    const doc = scanDocumentFromCoco(await readJsonOrExplain(file), file);
    if (doc.scanId !== scanId) throw new InputError(file, `belongs to scan ${doc.scanId}, not ${scanId}`);
    return doc;
  }

  /** Set the damaged file aside, fall back to the newest readable version, and report what happened. */
  private async recover(scanId: string, file: string, error: InputError): Promise<ScanDocument> {
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const aside = path.join(this.dir, 'damaged', `${safeName(scanId)}.${stamp}${path.extname(file)}`);
    await fs.mkdir(path.dirname(aside), { recursive: true });
    await fs.rename(file, aside).catch(() => undefined);
    for (const n of (await this.listVersions(scanId)).reverse()) {
      const version = path.join(this.versionsDir(scanId), versionName(n));
      try {
        const doc = await this.readCocoFile(version, scanId);
        this.reported.push({
          where: file,
          problem: `${error.problem}; restored version ${n} (the damaged file is kept as ${aside})`,
        });
        return doc;
      } catch {
        // An older version may still be good.
      }
    }
    this.reported.push({
      where: file,
      problem: `${error.problem}; no earlier version could be read, starting this scan afresh (the damaged file is kept as ${aside})`,
    });
    return emptyScanDocument(scanId);
  }

  /** Apply `change` to the scan's document and persist it atomically, keeping the previous one as a version. */
  async update(
    scanId: string,
    change: (doc: ScanDocument) => HistoryEntry | undefined,
  ): Promise<ScanDocument> {
    const previous = this.queues.get(scanId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.applyAndWrite(scanId, change));
    this.queues.set(scanId, next);
    return next;
  }

  private async applyAndWrite(
    scanId: string,
    change: (doc: ScanDocument) => HistoryEntry | undefined,
  ): Promise<ScanDocument> {
    const current = await this.load(scanId);
    // Shallow copies: mask objects are replaced, never changed in place, so the unchanged ones are shared
    // with `current` (and their COCO encoding is reused from the cache).
    const doc: ScanDocument = {
      ...current,
      states: { ...current.states },
      edits: { ...current.edits },
      history: [...current.history],
      runs: [...current.runs],
      shelved: [...current.shelved],
      viewed: [...current.viewed],
      audit: [...current.audit],
    };
    const entry = change(doc);
    doc.version = current.version + 1;
    if (entry) doc.history = [...doc.history, entry].slice(-MAX_HISTORY);
    if (current.version > 0) await this.keepVersion(current);
    await writeJsonAtomic(this.scanFile(scanId), scanDocumentToCoco(doc, this.describe, this.encoded));
    await this.retireLegacyFile(scanId);
    this.cache.set(scanId, doc);
    return doc;
  }

  /** After the first write in the new format, a version-1 file moves into versions/ (kept, not read). */
  private async retireLegacyFile(scanId: string): Promise<void> {
    const legacy = this.legacyFile(scanId);
    if (!(await exists(legacy))) return;
    await fs.mkdir(this.versionsDir(scanId), { recursive: true });
    await fs.rename(legacy, path.join(this.versionsDir(scanId), 'legacy-v1.json'));
  }

  private async keepVersion(doc: ScanDocument): Promise<void> {
    const dir = this.versionsDir(doc.scanId);
    await writeJsonAtomic(
      path.join(dir, versionName(doc.version)),
      scanDocumentToCoco(doc, this.describe, this.encoded),
    );
    const kept = await this.listVersions(doc.scanId);
    for (const old of kept.slice(0, Math.max(0, kept.length - MAX_VERSIONS))) {
      await fs.rm(path.join(dir, versionName(old)), { force: true });
    }
  }

  /** Numbers of the kept versions of a scan, oldest first. */
  async listVersions(scanId: string): Promise<number[]> {
    try {
      return (await fs.readdir(this.versionsDir(scanId)))
        .filter((n) => VERSION_RE.test(n))
        .map((n) => Number(VERSION_RE.exec(n)![1]))
        .sort((a, b) => a - b);
    } catch {
      return [];
    }
  }

  /** A kept version of a scan's document. */
  async readVersion(scanId: string, version: number): Promise<ScanDocument> {
    return this.readCocoFile(path.join(this.versionsDir(scanId), versionName(version)), scanId);
  }

  /**
   * Save a slice's corrected masks. Masks equal to the layer they were made on are no edit at all: the
   * stored edit is dropped and the slice goes back to `state` ('auto' unless it was approved before).
   */
  async saveEdit(
    scanId: string,
    sliceId: string,
    masks: SliceMasksWire,
    state: SliceState = 'edited',
    sameAsBase = false,
  ) {
    return this.update(scanId, (doc) => {
      const at = new Date().toISOString();
      if (sameAsBase) {
        delete doc.edits[sliceId];
        if (state === 'edited' || state === 'auto') delete doc.states[sliceId];
        else doc.states[sliceId] = state;
        return { at, action: 'revert', sliceId };
      }
      doc.edits[sliceId] = masks;
      doc.states[sliceId] = state;
      return { at, action: 'edit', sliceId, organs: Object.keys(masks) };
    });
  }

  async setState(scanId: string, sliceId: string, state: SliceState) {
    return this.update(scanId, (doc) => {
      doc.states[sliceId] = state;
      return { at: new Date().toISOString(), action: 'state', sliceId, state };
    });
  }

  /**
   * Store a model run as a new layer. It becomes the base of the working contour only when `makeBase`
   * (the caller asked the user before replacing human contours); the edits it replaces are shelved.
   */
  async savePredictions(
    scanId: string,
    predictions: Record<string, SliceMasksWire>,
    model: string,
    opts: { makeBase: boolean; user: string; uncertainty?: Record<string, number> },
  ) {
    return this.update(scanId, (doc) => {
      const at = new Date().toISOString();
      const before = doc.base;
      const { uncertainty } = opts;
      const layer = addRun(doc, { model, at, predictions, ...(uncertainty ? { uncertainty } : {}) });
      if (opts.makeBase) useLayer(doc, layer, at);
      doc.audit = [
        ...doc.audit,
        {
          at,
          user: opts.user,
          action: 'segment',
          slices: [],
          models: [model],
          note: opts.makeBase
            ? `${layer} (${model}) replaced ${before} as the working contour`
            : `${layer} (${model}) kept as a layer; the working contour stays ${before}`,
        },
      ];
      return { at, action: 'predict', model };
    });
  }

  /** Make another layer the base of the working contour (undo of a replacement; see ./layers useLayer). */
  async useLayer(scanId: string, layer: LayerId, user: string) {
    return this.update(scanId, (doc) => {
      if (layer !== 'truth' && !runOf(doc, layer)) throw new InputError(layer, `no such layer in ${scanId}`);
      const at = new Date().toISOString();
      const before = doc.base;
      useLayer(doc, layer, at);
      doc.audit = [
        ...doc.audit,
        {
          at,
          user,
          action: 'use-layer',
          slices: [],
          note: `${layer} replaced ${before} as the working contour`,
        },
      ];
      return { at, action: 'use-layer', model: layer };
    });
  }
}
