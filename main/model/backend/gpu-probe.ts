/** Ask the NVIDIA driver which GPU is present; null when there is no driver (the common case here). */
import { execFileSync } from 'node:child_process';

export function nvidiaGpuName(): string | null {
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
