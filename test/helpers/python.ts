/**
 * Independent reference checks run in Python. Debian's /usr/bin/python3 carries numpy, scipy, pydicom,
 * nibabel and Pillow; a pyenv `python3` earlier on PATH may not, so each candidate is probed once.
 * No suitable Python → null, and the caller skips with a visible message.
 */
import { spawnSync } from 'node:child_process';

const CANDIDATES = ['/usr/bin/python3', 'python3'];
const found = new Map<string, string | null>();

/** A python3 that can import every module listed, or null (a SKIPPED line is printed once). */
export function pythonWith(modules: string[]): string | null {
  const key = modules.join(', ');
  if (found.has(key)) return found.get(key) ?? null;
  const exe = CANDIDATES.find((c) => spawnSync(c, ['-c', `import ${key}`], { stdio: 'ignore' }).status === 0);
  if (!exe) console.warn(`SKIPPED reference checks: no python3 with ${key}`);
  found.set(key, exe ?? null);
  return exe ?? null;
}
