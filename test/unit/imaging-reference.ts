/**
 * Runs test/reference/imaging_reference.py with a Python that has the modules a check needs.
 * Debian's /usr/bin/python3 carries pydicom/nibabel/Pillow; a pyenv `python3` earlier on PATH may not,
 * so each candidate is probed. No suitable Python → the caller skips with a visible message.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/shared-data';

const SCRIPT = path.join(REPO_ROOT, 'test/reference/imaging_reference.py');
const CANDIDATES = ['/usr/bin/python3', 'python3'];
const found = new Map<string, string | null>();

/** A python3 that can import every module listed, or null. */
export function pythonWith(modules: string[]): string | null {
  const key = modules.join(',');
  if (found.has(key)) return found.get(key) ?? null;
  let result: string | null = null;
  for (const exe of CANDIDATES) {
    const probe = spawnSync(exe, ['-c', `import ${key}`], { stdio: 'ignore' });
    if (probe.status === 0) {
      result = exe;
      break;
    }
  }
  if (!result) console.warn(`SKIPPED reference checks: no python3 with ${key}`);
  found.set(key, result);
  return result;
}

export function runReference(python: string, args: string[]): unknown {
  const out = execFileSync(python, [SCRIPT, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out);
}

export interface ReferenceStats {
  width: number;
  height: number;
  min: number;
  max: number;
  sum: number;
  sha256: string;
}
