/**
 * Which engine runs a model's forward pass. ONNX Runtime is several times faster than tfjs on the same
 * cores, so it is chosen whenever it can be trusted: the model folder carries `model.onnx`, the native
 * package loads, and a start-up self-check (one deterministic slice through both engines) agrees with
 * tfjs. Otherwise tfjs runs, and the reason is logged once per process. A stale model.onnx (weights
 * replaced without re-exporting) fails the self-check instead of silently giving other contours. tfjs's side
 * of the check is recorded when model.onnx is written (./recorded-check) and used while the files it was
 * made from are unchanged; otherwise tfjs computes it here.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BackendPreference } from '../backend/select';
import { localPredictor, type BatchPredictor } from '../infer';
import { loadModel, type LoadedModel } from '../model-io';
import { ONNX_FILE } from './names';
import { maxRecordedDiff, readRecordedCheck, RECORDED_CHECK_FILE } from './recorded-check';
import { createOnnxSession, loadOnnxRuntime, onnxPredictor, type OnnxSession } from './runtime';

/** `--backend` values: the tfjs ones, and `onnx` (ONNX Runtime first; `auto` also tries it first). */
export type InferencePreference = BackendPreference | 'onnx';
export const INFERENCE_PREFERENCES: readonly InferencePreference[] = [
  'auto',
  'onnx',
  'tensorflow',
  'wasm',
  'cpu',
];

/** Largest |Δp| allowed between ONNX Runtime and tfjs on the self-check slice (different kernels). */
export const SELF_CHECK_TOLERANCE = 1e-3;

export type OnnxChoice =
  | {
      ok: true;
      session: OnnxSession;
      predict: BatchPredictor;
      /** Self-check result: max |Δp| against tfjs. */
      maxDiff: number;
      /** What ONNX Runtime was compared with: tfjs's output recorded beside model.onnx, or tfjs here. */
      against: 'record' | 'tfjs';
      /** e.g. "onnxruntime-node 1.30.0, cpu provider, 2 threads". */
      detail: string;
    }
  | { ok: false; reason: string };

/** The tfjs backend to initialise for a preference (`onnx` and `auto` both let tfjs pick its best). */
export function tfjsPreference(p: InferencePreference | undefined): BackendPreference {
  return p === undefined || p === 'onnx' ? 'auto' : p;
}

/** A fixed pseudo-random slice in [0, 1): the same bytes in every process. */
export function selfCheckInput(length: number): Float32Array {
  const out = new Float32Array(length);
  let s = 0x2545f491;
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

const cache = new Map<string, Promise<OnnxChoice>>();
const told = new Set<string>();

/**
 * ONNX Runtime for this loaded model, or why not. Cached per model folder and model.onnx version, so
 * the app pays the session and self-check once per model. `log` hears a fallback reason only once.
 * `against: 'tfjs'` makes tfjs compute its side of the self-check even where a record is valid (an export
 * checks the whole output of the file it has just written).
 */
export function chooseOnnx(
  loaded: Pick<LoadedModel, 'model' | 'card' | 'dir'>,
  preference: InferencePreference | undefined,
  log: (msg: string) => void = () => {},
  { against }: { against?: 'tfjs' } = {},
): Promise<OnnxChoice> {
  const pref = preference ?? 'auto';
  if (pref !== 'auto' && pref !== 'onnx')
    return Promise.resolve({ ok: false, reason: `--backend ${pref} asks for tfjs` });
  const file = path.join(loaded.dir, ONNX_FILE);
  const stamp = existsSync(file) ? statSync(file).mtimeMs : 0;
  const base = `${path.resolve(loaded.dir)}\n${stamp}\n${loaded.card.createdAt}`;
  const key = against === 'tfjs' ? `${base}\nlive` : base;
  let choice = cache.get(key);
  if (!choice) {
    choice = tryOnnx(loaded, file, stamp > 0, against === 'tfjs');
    cache.set(key, choice);
    // Checked against tfjs itself is at least as good as against its record: later calls reuse the session.
    if (!cache.has(base)) cache.set(base, choice);
  }
  return choice.then((c) => {
    if (!c.ok && !told.has(c.reason)) {
      told.add(c.reason);
      log(`ONNX Runtime not used: ${c.reason}; running on tfjs`);
    }
    return c;
  });
}

async function tryOnnx(
  loaded: Pick<LoadedModel, 'model' | 'card' | 'dir'>,
  file: string,
  exists: boolean,
  live: boolean,
): Promise<OnnxChoice> {
  if (!exists)
    return {
      ok: false,
      reason: `${file} is missing (write it with: tractus models export-onnx ${loaded.dir})`,
    };
  const { height, width } = loaded.card.input.size;
  const channels = loaded.card.architecture.inChannels;
  let session: OnnxSession;
  try {
    session = await createOnnxSession(file);
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
  const predict = onnxPredictor(session, { height, width, channels });
  try {
    const x = selfCheckInput(height * width * channels);
    const got = await predict(x.slice(), 1);
    const record = live ? undefined : await readRecordedCheck(loaded.dir, got.length);
    let maxDiff: number;
    if (record) {
      maxDiff = maxRecordedDiff(got, record);
    } else {
      const expected = await localPredictor(loaded.model, loaded.card)(x, 1);
      maxDiff = got.length === expected.length ? 0 : Infinity;
      for (let i = 0; i < got.length && maxDiff < Infinity; i++)
        maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
    }
    if (!(maxDiff <= SELF_CHECK_TOLERANCE)) {
      await session.session.release();
      return {
        ok: false,
        reason:
          `self-check failed: ${file} differs from the ${record ? 'recorded output of the ' : ''}tfjs model ` +
          `by ${maxDiff.toExponential(1)} (stale? re-export with: tractus models export-onnx ${loaded.dir})`,
      };
    }
    const detail =
      `onnxruntime-node ${session.version}, ${session.provider} provider, ${session.threads} thread` +
      `${session.threads === 1 ? '' : 's'}` +
      session.skipped.map((s) => `; ${s.provider} provider skipped: ${s.reason}`).join('');
    return { ok: true, session, predict, maxDiff, against: record ? 'record' : 'tfjs', detail };
  } catch (e) {
    await session.session.release().catch(() => undefined);
    return { ok: false, reason: `self-check failed: ${(e as Error).message}` };
  }
}

export interface OnnxStatus {
  /** onnxruntime-node's version, or null when it does not load. */
  version: string | null;
  /** Model folder checked. */
  model: string;
  /** Whether that model's forward passes run on ONNX Runtime. */
  used: boolean;
  /** The session (provider, threads, self-check) when used, else why not. */
  detail: string;
}

/** For `tractus doctor`: does ONNX Runtime load, and would it run this model (and why not)? */
export async function onnxStatus(modelDir: string): Promise<OnnxStatus> {
  const load = await loadOnnxRuntime();
  if (!load.ok) return { version: null, model: modelDir, used: false, detail: load.reason };
  let loaded: LoadedModel;
  try {
    loaded = await loadModel(modelDir);
  } catch (e) {
    return { version: load.version, model: modelDir, used: false, detail: (e as Error).message };
  }
  try {
    const c = await chooseOnnx(loaded, 'onnx');
    return c.ok
      ? {
          version: load.version,
          model: modelDir,
          used: true,
          detail:
            `${c.detail}; self-check max |Δp| ${c.maxDiff.toExponential(1)} against ` +
            (c.against === 'record'
              ? `tfjs's output recorded in ${RECORDED_CHECK_FILE}`
              : `tfjs (no up-to-date ${RECORDED_CHECK_FILE}: \`tractus models export-onnx ${modelDir}\` ` +
                'writes one, and each start is ≈ 0.1 s sooner)'),
        }
      : { version: load.version, model: modelDir, used: false, detail: c.reason };
  } finally {
    loaded.model.dispose();
  }
}
