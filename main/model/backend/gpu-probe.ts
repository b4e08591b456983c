/**
 * Ask the NVIDIA driver which GPU is present; null when there is no driver (the common case here). Asked
 * once per thread (nvidia-smi takes 0.1–0.5 s where a driver is installed); inference workers are told the
 * main thread's answer instead of asking (see parallel/infer-pool).
 */
import { execFileSync } from 'node:child_process';

let answer: string | null | undefined;

export function nvidiaGpuName(): string | null {
  if (answer === undefined) answer = askNvidiaSmi();
  return answer;
}

function askNvidiaSmi(): string | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=name', '--format=csv,noheader'], {
      encoding: 'utf8',
      timeout: 5000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const first = out.split('\n')[0]?.trim();
    return first ? first : null;
  } catch {
    return null;
  }
}
