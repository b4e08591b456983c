/**
 * nvidia-smi is asked once per thread (it takes 0.1–0.5 s where a driver is installed, and every ONNX
 * Runtime session and tfjs backend choice wants the answer). A stand-in nvidia-smi on PATH counts its runs.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nvidiaGpuName } from '../../main/model/backend/gpu-probe';
import { acceleratedProviders } from '../../main/model/onnx/runtime';

describe('the NVIDIA driver probe', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tractus-gpu-probe-'));
  const runs = path.join(dir, 'runs');
  const savedPath = process.env.PATH;
  afterAll(() => {
    process.env.PATH = savedPath;
    rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(process.platform === 'win32')('runs nvidia-smi once, and its answer picks CUDA first', () => {
    writeFileSync(runs, '');
    const script = path.join(dir, 'nvidia-smi');
    writeFileSync(script, `#!/bin/sh\necho run >> '${runs}'\necho 'Stand-in GPU 9000'\n`);
    chmodSync(script, 0o755);
    process.env.PATH = `${dir}${path.delimiter}${savedPath}`;
    expect(nvidiaGpuName()).toBe('Stand-in GPU 9000');
    expect(nvidiaGpuName()).toBe('Stand-in GPU 9000');
    expect(acceleratedProviders('linux')).toEqual(['cuda']);
    expect(readFileSync(runs, 'utf8').trim().split('\n')).toEqual(['run']);
  });
});
