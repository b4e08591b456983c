/**
 * `tractus doctor [--json] [--backend auto|tensorflow|wasm|cpu] [--seconds N]`: which tfjs backend this
 * machine gets and why the faster ones were skipped, versions, SIMD/threads, GPU, CPU and memory, and a
 * short matmul GFLOP/s measurement so slow training can be diagnosed from one paste.
 */
import os from 'node:os';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import * as tf from '@tensorflow/tfjs-core';
import { InputError } from '../../core/errors';
import { initBackend, type BackendInfo, type BackendPreference } from '../../model/backend/select';
import { nvidiaGpuName } from '../../model/backend/gpu-probe';
import { matMulGflops } from '../../model/backend/probe';
import { WASM_GRADIENT_KERNELS } from '../../model/backend/wasm-gradients';
import { DEFAULT_MODEL_DIR } from '../../model/model-io';
import { onnxStatus, type OnnxStatus } from '../../model/onnx/choose';
import { REPO_ROOT } from '../../ipc/paths';

const PREFERENCES = ['auto', 'tensorflow', 'wasm', 'cpu'];

interface DoctorReport {
  tractus: string;
  /** Which code runs: the built CLI, or the sources through tsx and why (set by bin/tractus.mjs). */
  code: string;
  node: string;
  electron: string | null;
  packages: Record<string, string | null>;
  backend: BackendInfo;
  /** ONNX Runtime (inference): loads? runs the default model? else why not. */
  onnx: OnnxStatus;
  wasmKernelsAdded: string[];
  gpu: { nvidiaSmi: string | null; tfjsNodeGpu: boolean };
  cpu: { count: number; model: string };
  memory: { totalGiB: number; freeGiB: number };
  matmul: { gflopsBest: number; gflopsMedian: number; gflopsCpuTime: number; seconds: number };
}

function packageVersion(name: string): string | null {
  try {
    const require = createRequire(import.meta.url);
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

export async function doctor(preferred: BackendPreference, seconds: number): Promise<DoctorReport> {
  const backend = await initBackend(preferred);
  const mm = await matMulGflops(seconds);
  const cpus = os.cpus();
  const gib = (b: number) => Math.round((b / 2 ** 30) * 10) / 10;
  const pkgs = [
    '@tensorflow/tfjs-core',
    '@tensorflow/tfjs-layers',
    '@tensorflow/tfjs-backend-wasm',
    '@tensorflow/tfjs-backend-cpu',
    '@tensorflow/tfjs-node',
    '@tensorflow/tfjs-node-gpu',
    'onnxruntime-node',
  ];
  return {
    tractus: tractusVersion(),
    code: process.env.TRACTUS_CLI_CODE ?? 'sources through tsx',
    node: process.versions.node,
    electron: process.versions.electron ?? packageVersion('electron'),
    packages: Object.fromEntries(pkgs.map((p) => [p, packageVersion(p)])),
    backend,
    onnx: await onnxStatus(DEFAULT_MODEL_DIR),
    wasmKernelsAdded: backend.name === 'wasm' ? [...WASM_GRADIENT_KERNELS] : [],
    gpu: { nvidiaSmi: nvidiaGpuName(), tfjsNodeGpu: backend.package === '@tensorflow/tfjs-node-gpu' },
    cpu: { count: cpus.length, model: cpus[0]?.model.trim() ?? 'unknown' },
    memory: { totalGiB: gib(os.totalmem()), freeGiB: gib(os.freemem()) },
    matmul: {
      gflopsBest: round1(mm.best),
      gflopsMedian: round1(mm.median),
      gflopsCpuTime: round1(mm.cpuBest),
      seconds,
    },
  };
}

function tractusVersion(): string {
  try {
    // From REPO_ROOT, not relative to this file: the built CLI (out/cli) is one folder less deep.
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

function printText(r: DoctorReport): void {
  const lines = [
    `tractus ${r.tractus}, node ${r.node}, electron ${r.electron ?? '—'}`,
    `code: ${r.code}`,
    `backend: ${r.backend.name} (${r.backend.package} ${r.backend.version})` +
      (r.backend.simd === null ? '' : `, SIMD ${r.backend.simd ? 'yes' : 'no'}`) +
      (r.backend.threads === null ? '' : `, threads ${r.backend.threads ? 'yes' : 'no'}`),
    ...r.backend.fallbacks.map((f) => `  skipped ${f.backend}: ${f.reason}`),
    `inference: ${r.onnx.used ? 'ONNX Runtime' : `tfjs ${r.backend.name}`} for the default model` +
      ` (${r.onnx.used ? r.onnx.detail : `ONNX Runtime not used: ${r.onnx.detail}`})`,
    ...(r.wasmKernelsAdded.length ? [`  wasm kernels added/replaced: ${r.wasmKernelsAdded.join(', ')}`] : []),
    `packages: ${Object.entries(r.packages)
      .map(([k, v]) => `${k.replace('@tensorflow/', '')} ${v ?? '—'}`)
      .join(', ')}`,
    `GPU: ${r.gpu.nvidiaSmi ?? 'none (no nvidia-smi)'}${r.gpu.tfjsNodeGpu ? ' via tfjs-node-gpu' : ''}`,
    `CPU: ${r.cpu.count} × ${r.cpu.model}`,
    `memory: ${r.memory.freeGiB} GiB free of ${r.memory.totalGiB} GiB`,
    `matmul 512²: ${r.matmul.gflopsBest} GFLOP/s best, ${r.matmul.gflopsMedian} median ` +
      `(${r.matmul.gflopsCpuTime} by CPU time; ${r.matmul.seconds}s, one thread)`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('Report the compute backend, versions, hardware and a quick GFLOP/s measurement')
    .option('--json', 'print the report as JSON on stdout')
    .option('--backend <name>', `backend to try first: ${PREFERENCES.join(' | ')}`, 'auto')
    .option('--seconds <n>', 'length of the matmul measurement', '5')
    .action(async (flags: { json?: boolean; backend: string; seconds: string }) => {
      if (!PREFERENCES.includes(flags.backend)) {
        throw new InputError('--backend', `'${flags.backend}' is not one of ${PREFERENCES.join(', ')}`);
      }
      const seconds = Number(flags.seconds);
      if (!(seconds > 0 && seconds <= 600))
        throw new InputError('--seconds', `expected 0 < n ≤ 600, got ${flags.seconds}`);
      const report = await doctor(flags.backend as BackendPreference, seconds);
      if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else printText(report);
      tf.disposeVariables();
    });
}
