/**
 * Runs test/reference/imaging_reference.py with a Python that has the modules a check needs
 * (test/helpers/python.ts finds one).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from '../helpers/shared-data';
import { pythonWith } from '../helpers/python';

const SCRIPT = path.join(REPO_ROOT, 'test/reference/imaging_reference.py');
export { pythonWith };

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
