/**
 * ONNX Runtime sessions for inference. `onnxruntime-node` is an optional dependency (its install script,
 * which fetches CUDA pieces, is denied in package.json `allowScripts`): it is imported on first use, and
 * a missing or broken native binary becomes a reason string the caller shows instead of a crash.
 * Execution providers: CUDA where an NVIDIA driver is present, DirectML on Windows, CoreML on macOS,
 * each tried before the CPU provider (threads = cores) and dropped with its reason when it fails.
 */
import os from 'node:os';
import type * as Ort from 'onnxruntime-node';
import { nvidiaGpuName } from '../backend/gpu-probe';
import type { BatchPredictor } from '../infer';
import { ONNX_INPUT, ONNX_OUTPUT } from './names';

export type OrtModule = typeof Ort;

export type OrtLoad = { ok: true; ort: OrtModule; version: string } | { ok: false; reason: string };

let loading: Promise<OrtLoad> | null = null;

/** Import onnxruntime-node once per process; never throws. */
export function loadOnnxRuntime(): Promise<OrtLoad> {
  loading ??= import('onnxruntime-node').then(
    (mod): OrtLoad => {
      // The CommonJS package arrives as the default export under ESM.
      const ort = ((mod as { default?: OrtModule }).default ?? mod) as OrtModule;
      return { ok: true, ort, version: ort.env.versions.node ?? ort.env.versions.common };
    },
    (e: unknown): OrtLoad => {
      const err = e as { code?: string; message?: string };
      const first = (err?.message ?? String(e)).split('\n')[0] ?? '';
      const missing = err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND';
      return {
        ok: false,
        reason: missing
          ? `onnxruntime-node is not installed (${first})`
          : `onnxruntime-node failed to load: ${first}`,
      };
    },
  );
  return loading;
}

export interface OnnxSession {
  session: Ort.InferenceSession;
  /** Execution provider the session was created with: cuda, dml, coreml or cpu. */
  provider: string;
  threads: number;
  version: string;
  /** Providers tried first and why each was not used. */
  skipped: Array<{ provider: string; reason: string }>;
}

/** Accelerated providers worth trying on this machine, best first (the CPU provider always follows). */
export function acceleratedProviders(platform = process.platform): string[] {
  if (platform === 'win32') return ['dml'];
  if (platform === 'darwin') return ['coreml'];
  return nvidiaGpuName() ? ['cuda'] : [];
}

/** Create a session on `model` (file path or bytes), on the best provider that accepts it. */
export async function createOnnxSession(
  model: string | Uint8Array,
  opts: { threads?: number; providers?: string[] } = {},
): Promise<OnnxSession> {
  const loaded = await loadOnnxRuntime();
  if (!loaded.ok) throw new Error(loaded.reason);
  const { ort } = loaded;
  const threads = Math.max(1, opts.threads ?? os.availableParallelism());
  const options: Ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const skipped: OnnxSession['skipped'] = [];
  for (const provider of [...(opts.providers ?? acceleratedProviders()), 'cpu']) {
    try {
      const session =
        typeof model === 'string'
          ? await ort.InferenceSession.create(model, { ...options, executionProviders: [provider] })
          : await ort.InferenceSession.create(model, { ...options, executionProviders: [provider] });
      return { session, provider, threads, version: loaded.version, skipped };
    } catch (e) {
      const reason = (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
      if (provider === 'cpu')
        throw new Error(`ONNX Runtime could not load the model: ${reason}`, { cause: e });
      skipped.push({ provider, reason });
    }
  }
  throw new Error('unreachable: the CPU provider is always tried');
}

export interface OnnxInputShape {
  height: number;
  width: number;
  channels: number;
}

/**
 * The slice size and channels the session's model takes ([batch, height, width, channels], as the exporter
 * writes it), read from the model itself: a worker needs no model card (nor its schema library) to run it.
 */
export function sessionInputShape(s: OnnxSession, where: string): OnnxInputShape {
  const meta = s.session.inputMetadata.find((m) => m.name === ONNX_INPUT);
  const dims = meta?.isTensor ? meta.shape : [];
  const [, height, width, channels] = dims;
  if (dims.length !== 4 || ![height, width, channels].every((d) => typeof d === 'number' && d > 0)) {
    throw new Error(
      `${where}: input "${ONNX_INPUT}" is not [batch, height, width, channels] (${JSON.stringify(dims)})`,
    );
  }
  return { height: height as number, width: width as number, channels: channels as number };
}

/** Forward passes [count, height, width, channels] → probabilities [count, height, width, organs]. */
export function onnxPredictor(s: OnnxSession, input: OnnxInputShape): BatchPredictor {
  const { session } = s;
  return async (data, count) => {
    const loaded = await loadOnnxRuntime();
    if (!loaded.ok) throw new Error(loaded.reason);
    const x = new loaded.ort.Tensor('float32', data, [count, input.height, input.width, input.channels]);
    const out = await session.run({ [ONNX_INPUT]: x });
    const y = out[ONNX_OUTPUT];
    if (!y) throw new Error(`model.onnx has no output "${ONNX_OUTPUT}"`);
    return y.data as Float32Array;
  };
}
