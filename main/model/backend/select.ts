/**
 * Chooses and initialises the tfjs backend once per process: CUDA (tfjs-node-gpu) → native TensorFlow
 * (tfjs-node) → WebAssembly (XNNPACK, SIMD) → pure JS. The two native packages are optional and usually
 * absent, so each attempt is a dynamic import in try/catch and every skipped backend records why, for
 * `tractus doctor` and the training log.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
// tfjs-core's Node bundle registers no gradient functions; tfjs-layers' bundle registers all of them.
// Without this import tf.grad / optimizer.minimize fail with "gradient function not found for Sum".
import '@tensorflow/tfjs-layers';
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { nvidiaGpuName } from './gpu-probe';
import { registerWasmGradientKernels } from './wasm-gradients';
import { wasmDir } from './wasm-dir';

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

/** What runs a forward pass: a tfjs backend, or ONNX Runtime on the model's model.onnx (model/onnx). */
export type InferenceBackend = BackendName | 'onnxruntime';

/** Whether a backend's forward passes run in a native addon (which a worker must not be terminated inside). */
export function isNativeBackend(backend: string): boolean {
  return backend === 'onnxruntime' || backend === 'tensorflow';
}

export interface BackendFallback {
  backend: string;
  reason: string;
}

export interface BackendInfo {
  name: BackendName;
  /** npm package providing the backend, e.g. '@tensorflow/tfjs-backend-wasm'. */
  package: string;
  version: string;
  /** WebAssembly SIMD in use; null when the backend is not wasm. */
  simd: boolean | null;
  /** WebAssembly threads in use; null when the backend is not wasm. */
  threads: boolean | null;
  /** GPU name when computing on a GPU, else null. */
  gpu: string | null;
  /** Backends tried before the chosen one, in order, with the reason each was skipped. */
  fallbacks: BackendFallback[];
}

export type BackendPreference = BackendName | 'auto';

type Attempt = () => Promise<Omit<BackendInfo, 'fallbacks'>>;

let current: { preferred: BackendPreference; info: Promise<BackendInfo> } | null = null;
let resolved: BackendInfo | null = null;

/**
 * Initialise the best backend, starting at `preferred` and falling back down the chain. Idempotent: a
 * second call with the same preference returns the same result without re-initialising; a different
 * preference switches the (process-global) tfjs backend.
 */
export function initBackend(
  preferred: BackendPreference = 'auto',
  log: (msg: string) => void = () => {},
): Promise<BackendInfo> {
  if (current && current.preferred === preferred) return current.info;
  const info = chooseBackend(preferred, log).then((i) => {
    resolved = i;
    return i;
  });
  current = { preferred, info };
  info.catch(() => {
    if (current?.info === info) current = null;
  });
  return info;
}

/** The backend chosen by the last successful initBackend(), or null before it. */
export function getBackendInfo(): BackendInfo | null {
  return resolved;
}

async function chooseBackend(preferred: BackendPreference, log: (msg: string) => void): Promise<BackendInfo> {
  const chain: Array<[string, Attempt]> = [
    ['tensorflow-gpu', tryTfjsNodeGpu],
    ['tensorflow', tryTfjsNode],
    ['wasm', tryWasm],
    ['cpu', tryCpu],
  ];
  const start = { auto: 0, tensorflow: 0, wasm: 2, cpu: 3 }[preferred];
  const fallbacks: BackendFallback[] = [];
  for (const [label, attempt] of chain.slice(start)) {
    try {
      const info = { ...(await attempt()), fallbacks };
      // one line in words; the raw reasons (module paths…) stay in info.fallbacks for `tractus doctor`
      log(backendChoiceLine(info));
      return info;
    } catch (e) {
      fallbacks.push({ backend: label, reason: explain(e) });
    }
  }
  throw new Error(`no tfjs backend could be initialised: ${JSON.stringify(fallbacks)}`);
}

const BACKEND_WORDS: Record<BackendName, string> = {
  tensorflow: 'native TensorFlow',
  wasm: 'WebAssembly',
  cpu: 'plain JavaScript (slow)',
};

/**
 * The backend chosen, said once in words: "native TensorFlow not installed; using WebAssembly". A missing
 * NVIDIA GPU is the normal case and is not mentioned.
 */
export function backendChoiceLine(info: Pick<BackendInfo, 'name' | 'gpu' | 'fallbacks'>): string {
  const using = `${BACKEND_WORDS[info.name]}${info.gpu ? ` on ${info.gpu}` : ''}`;
  const notable = info.fallbacks.filter((f) => f.backend !== 'tensorflow-gpu');
  if (notable.length === 0) return `using ${using}`;
  const said = notable.map((f) => {
    const what =
      f.backend === 'tensorflow'
        ? 'native TensorFlow'
        : (BACKEND_WORDS[f.backend as BackendName] ?? f.backend);
    return `${what} ${f.reason.startsWith('package not installed') ? 'not installed' : 'failed to load'}`;
  });
  return `${said.join(', ')}; using ${using} (details: tractus doctor)`;
}

function explain(e: unknown): string {
  const err = e as { code?: string; message?: string };
  const msg = (err?.message ?? String(e)).split('\n')[0] ?? '';
  if (err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') {
    return `package not installed (${msg})`;
  }
  return msg;
}

async function activate(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
}

async function tryTfjsNodeGpu(): ReturnType<Attempt> {
  // Without an NVIDIA driver tfjs-node-gpu would load and then silently compute on the CPU.
  const gpu = nvidiaGpuName();
  if (!gpu) throw new Error('no NVIDIA GPU/driver found (nvidia-smi not available)');
  const mod = await import('@tensorflow/tfjs-node-gpu');
  await activate('tensorflow');
  const version = mod.version['tfjs-node-gpu'] ?? mod.version['tfjs-node'] ?? 'unknown';
  return {
    name: 'tensorflow',
    package: '@tensorflow/tfjs-node-gpu',
    version,
    simd: null,
    threads: null,
    gpu,
  };
}

async function tryTfjsNode(): ReturnType<Attempt> {
  const mod = await import('@tensorflow/tfjs-node');
  await activate('tensorflow');
  const version = mod.version['tfjs-node'] ?? 'unknown';
  return {
    name: 'tensorflow',
    package: '@tensorflow/tfjs-node',
    version,
    simd: null,
    threads: null,
    gpu: null,
  };
}

async function tryWasm(): ReturnType<Attempt> {
  try {
    setWasmPaths(wasmDir());
  } catch {
    // Already initialised by an earlier call: the paths are set and may no longer change.
  }
  await activate('wasm');
  registerWasmGradientKernels();
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threads = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  return {
    name: 'wasm',
    package: '@tensorflow/tfjs-backend-wasm',
    version: version_wasm,
    simd,
    threads,
    gpu: null,
  };
}

async function tryCpu(): ReturnType<Attempt> {
  await activate('cpu');
  return {
    name: 'cpu',
    package: '@tensorflow/tfjs-backend-cpu',
    version: version_cpu,
    simd: null,
    threads: null,
    gpu: null,
  };
}
