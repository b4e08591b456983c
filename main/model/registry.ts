/**
 * The user's model registry: every trained model is copied into `<TRACTUS_HOME>/models/<id>/`
 * (TRACTUS_HOME defaults to ~/.tractus), one of them is active, and the order of activations is kept
 * so a bad fine-tune can be rolled back. The shipped default model is never written: it is only the
 * fallback when nothing is active.
 *
 * Layout:
 *   models/<YYYYMMDD-HHMMSS>-<name>/   model.json, weights, model-card.json, history.jsonl …
 *   active                            the active id, one line, written atomically
 *   activations.json                  [{ id, at }] oldest first; rollback pops the last entry
 */
import { promises as fs, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../core/errors';
import { readJsonOrExplain, writeFileAtomic, writeJsonAtomic } from '../io/files';
import { DEFAULT_MODEL_DIR } from './model-io';

/** Where the app keeps user data: $TRACTUS_HOME, else ~/.tractus. */
export function tractusHome(): string {
  return process.env.TRACTUS_HOME || path.join(os.homedir(), '.tractus');
}

/** The model that ships with the app (read-only); used when the registry has no active model. */
export const SHIPPED_DEFAULT_MODEL_DIR = DEFAULT_MODEL_DIR;

export interface RegisteredModel {
  id: string;
  dir: string;
  active: boolean;
  /** From model-card.json when present: what the card says about the model, else undefined. */
  card?: unknown;
}

export interface Activation {
  id: string;
  at: string;
}

const ID_RE = /^\d{8}-\d{6}(?:-\d+)?-[a-z0-9][a-z0-9._-]*$/;

export class ModelRegistry {
  readonly modelsDir: string;
  private readonly activeFile: string;
  private readonly historyFile: string;

  constructor(
    readonly home: string = tractusHome(),
    readonly shippedDefaultDir: string = SHIPPED_DEFAULT_MODEL_DIR,
  ) {
    this.modelsDir = path.join(home, 'models');
    this.activeFile = path.join(home, 'active');
    this.historyFile = path.join(home, 'activations.json');
  }

  /** Registered models sorted by id, which starts with the registration time (to the second). */
  async list(): Promise<RegisteredModel[]> {
    const active = await this.activeId();
    let names: string[];
    try {
      names = (await fs.readdir(this.modelsDir, { withFileTypes: true }))
        .filter((d) => d.isDirectory() && ID_RE.test(d.name))
        .map((d) => d.name)
        .sort();
    } catch {
      return [];
    }
    const out: RegisteredModel[] = [];
    for (const id of names) {
      const dir = path.join(this.modelsDir, id);
      const cardFile = path.join(dir, 'model-card.json');
      const card = existsSync(cardFile)
        ? await readJsonOrExplain(cardFile).catch(() => undefined)
        : undefined;
      out.push({ id, dir, active: id === active, ...(card === undefined ? {} : { card }) });
    }
    return out;
  }

  /**
   * Copy a trained model folder (must hold model.json) into the registry under a new id; the copy
   * appears whole or not at all (copied to a temp folder, then renamed).
   */
  async register(
    dir: string,
    name = path.basename(path.resolve(dir)),
    now = new Date(),
  ): Promise<RegisteredModel> {
    if (!existsSync(path.join(dir, 'model.json'))) {
      throw new InputError(dir, 'not a model folder (no model.json in it)');
    }
    await fs.mkdir(this.modelsDir, { recursive: true });
    const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const slug =
      name
        .toLowerCase()
        .replace(/[^a-z0-9._-]+/g, '-')
        .replace(/^[^a-z0-9]+/, '')
        .slice(0, 60) || 'model';
    let id = `${stamp}-${slug}`;
    for (let n = 2; existsSync(path.join(this.modelsDir, id)); n++) id = `${stamp}-${n}-${slug}`;
    const tmp = path.join(this.modelsDir, `.${id}.tmp`);
    await fs.rm(tmp, { recursive: true, force: true });
    try {
      // Training checkpoints (optimizer state, last epoch) stay with the run, not in the registry.
      const skip = path.join(path.resolve(dir), 'checkpoint');
      await fs.cp(dir, tmp, { recursive: true, filter: (src) => path.resolve(src) !== skip });
      await fs.rename(tmp, path.join(this.modelsDir, id));
    } catch (e) {
      await fs.rm(tmp, { recursive: true, force: true });
      throw e;
    }
    return { id, dir: path.join(this.modelsDir, id), active: false };
  }

  /** Make `id` the active model and remember the activation for rollback. */
  async activate(id: string, now = new Date()): Promise<void> {
    this.requireModel(id);
    const history = await this.activations();
    history.push({ id, at: now.toISOString() });
    await writeJsonAtomic(this.historyFile, history, true);
    await writeFileAtomic(this.activeFile, `${id}\n`);
  }

  /**
   * Undo the last activation: the model active before it becomes active again (skipping models that
   * were deleted since), or the shipped default when there was none. Returns the id now active, or
   * null for the shipped default.
   */
  async rollback(): Promise<string | null> {
    const history = await this.activations();
    if (history.length === 0)
      throw new InputError(this.historyFile, 'nothing to roll back: no model was activated');
    history.pop();
    while (history.length > 0 && !existsSync(path.join(this.modelsDir, history.at(-1)!.id))) history.pop();
    await writeJsonAtomic(this.historyFile, history, true);
    const previous = history.at(-1)?.id ?? null;
    if (previous) await writeFileAtomic(this.activeFile, `${previous}\n`);
    else await fs.rm(this.activeFile, { force: true });
    return previous;
  }

  /** The id in the active pointer when that model still exists, else null. */
  async activeId(): Promise<string | null> {
    let id: string;
    try {
      id = (await fs.readFile(this.activeFile, 'utf8')).trim();
    } catch {
      return null;
    }
    return ID_RE.test(id) && existsSync(path.join(this.modelsDir, id, 'model.json')) ? id : null;
  }

  /** Folder of the model to segment with: the active registered one, else the shipped default. */
  async activeModelDir(): Promise<string> {
    const id = await this.activeId();
    return id ? path.join(this.modelsDir, id) : this.shippedDefaultDir;
  }

  async activations(): Promise<Activation[]> {
    if (!existsSync(this.historyFile)) return [];
    const raw = await readJsonOrExplain(this.historyFile);
    if (!Array.isArray(raw) || !raw.every((a) => typeof a?.id === 'string' && typeof a?.at === 'string')) {
      throw new InputError(this.historyFile, 'activation history is not a list of { id, at } records');
    }
    return raw as Activation[];
  }

  private requireModel(id: string): void {
    if (!ID_RE.test(id) || !existsSync(path.join(this.modelsDir, id, 'model.json'))) {
      throw new InputError(id, `no such model in ${this.modelsDir} (see \`tractus models list\`)`);
    }
  }
}

/**
 * What a fine-tune made in the app is called in the registry (its card description, shown in the model
 * list): its date and data, "fine-tune 2026-11-30, 16 slices of case11_day20, case11_day22".
 */
export function fineTuneTitle(date: Date, slicesByScan: ReadonlyMap<string, number>): string {
  const n = [...slicesByScan.values()].reduce((a, b) => a + b, 0);
  const scans = [...slicesByScan.keys()].sort();
  const listed = scans.slice(0, 3).join(', ') + (scans.length > 3 ? ` and ${scans.length - 3} more` : '');
  return `fine-tune ${date.toISOString().slice(0, 10)}, ${n} slice${n === 1 ? '' : 's'} of ${listed}`;
}
