/**
 * The clinician's workspace: corrected masks, model predictions, review state and edit history of every
 * scan, kept beside (never inside) the read-only dataset. One JSON document per scan, written atomically on
 * every autosave; the previous document is kept as a numbered version so an edit can always be traced back.
 *
 * Layout:  <dir>/workspace.json                 what dataset this is for
 *          <dir>/scans/<scanId>.json            current document (masks, predictions, states, history)
 *          <dir>/versions/<scanId>/<n>.json     earlier documents, the newest MAX_VERSIONS kept
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import os from 'node:os';
import { InputError } from '../core/errors';
import { readJsonOrExplain, writeJsonAtomic } from '../io/files';
import type { SliceMasksWire, SliceState } from '../../preload/api';
import { scanDocumentSchema, workspaceInfoSchema, type ScanDocument, type HistoryEntry } from './schema';

export const MAX_VERSIONS = 50;
export const MAX_HISTORY = 1000;

export function emptyScanDocument(scanId: string): ScanDocument {
  return {
    format: 'tractus-scan',
    formatVersion: 1,
    scanId,
    version: 0,
    approved: false,
    states: {},
    edits: {},
    predictions: {},
    history: [],
  };
}

/** Where the workspace of a dataset lives when the user did not choose: per user, keyed by the dataset path. */
export function defaultWorkspaceDir(datasetRoot: string, base = path.join(os.homedir(), '.tractus')): string {
  const key = createHash('sha256').update(path.resolve(datasetRoot)).digest('hex').slice(0, 16);
  return path.join(base, 'workspaces', `${path.basename(datasetRoot) || 'dataset'}-${key}`);
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

  private constructor(
    readonly dir: string,
    readonly datasetRoot: string,
  ) {}

  static async open(dir: string, datasetRoot: string): Promise<WorkspaceStore> {
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
    return new WorkspaceStore(dir, datasetRoot);
  }

  private scanFile(scanId: string): string {
    return path.join(this.dir, 'scans', `${safeName(scanId)}.json`);
  }

  async load(scanId: string): Promise<ScanDocument> {
    const cached = this.cache.get(scanId);
    if (cached) return cached;
    const file = this.scanFile(scanId);
    let doc: ScanDocument;
    try {
      await fs.access(file);
    } catch {
      doc = emptyScanDocument(scanId);
      this.cache.set(scanId, doc);
      return doc;
    }
    const parsed = scanDocumentSchema.safeParse(await readJsonOrExplain(file));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new InputError(
        file,
        `not a valid workspace scan document (${issue?.path.join('.')}: ${issue?.message})`,
      );
    }
    if (parsed.data.scanId !== scanId) throw new InputError(file, `belongs to scan ${parsed.data.scanId}`);
    doc = parsed.data;
    this.cache.set(scanId, doc);
    return doc;
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
    const doc: ScanDocument = structuredClone(current);
    const entry = change(doc);
    doc.version = current.version + 1;
    if (entry) doc.history = [...doc.history, entry].slice(-MAX_HISTORY);
    if (current.version > 0) await this.keepVersion(current);
    await writeJsonAtomic(this.scanFile(scanId), doc);
    this.cache.set(scanId, doc);
    return doc;
  }

  private async keepVersion(doc: ScanDocument): Promise<void> {
    const dir = path.join(this.dir, 'versions', safeName(doc.scanId));
    await writeJsonAtomic(path.join(dir, `${String(doc.version).padStart(6, '0')}.json`), doc);
    const names = (await fs.readdir(dir)).filter((n) => n.endsWith('.json')).sort();
    for (const old of names.slice(0, Math.max(0, names.length - MAX_VERSIONS))) {
      await fs.rm(path.join(dir, old), { force: true });
    }
  }

  async listVersions(scanId: string): Promise<number[]> {
    const dir = path.join(this.dir, 'versions', safeName(scanId));
    try {
      return (await fs.readdir(dir))
        .filter((n) => /^\d+\.json$/.test(n))
        .map((n) => Number(n.slice(0, -5)))
        .sort((a, b) => a - b);
    } catch {
      return [];
    }
  }

  async saveEdit(scanId: string, sliceId: string, masks: SliceMasksWire, state: SliceState = 'edited') {
    return this.update(scanId, (doc) => {
      doc.edits[sliceId] = masks;
      doc.states[sliceId] = state;
      return { at: new Date().toISOString(), action: 'edit', sliceId, organs: Object.keys(masks) };
    });
  }

  async setState(scanId: string, sliceId: string, state: SliceState) {
    return this.update(scanId, (doc) => {
      doc.states[sliceId] = state;
      return { at: new Date().toISOString(), action: 'state', sliceId, state };
    });
  }

  async setApproved(scanId: string, approved: boolean, sliceIds: string[]) {
    return this.update(scanId, (doc) => {
      doc.approved = approved;
      if (approved) for (const id of sliceIds) doc.states[id] = 'approved';
      return { at: new Date().toISOString(), action: approved ? 'approve' : 'unapprove' };
    });
  }

  /** Store model output; slices a person already corrected keep their correction. */
  async savePredictions(scanId: string, predictions: Record<string, SliceMasksWire>, model: string) {
    return this.update(scanId, (doc) => {
      doc.predictions = predictions;
      return { at: new Date().toISOString(), action: 'predict', model };
    });
  }
}
