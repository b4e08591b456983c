/**
 * The independent tools the clinical-export tests check Tractus's files with: dicom3tools' `dciodvfy`,
 * plastimatch, dcm2niix (Debian packages, installed by .ci/run) and the pydicom/nibabel reference script.
 * A missing tool makes its checks skip with a printed line, never fail.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { pythonWith } from './python';
import { REPO_ROOT } from './shared-data';

const REFERENCE = path.join(REPO_ROOT, 'test/reference/export_reference.py');
/** A python3 with numpy, pydicom and nibabel, or null. */
export const PYTHON = pythonWith(['numpy', 'pydicom', 'nibabel']);

export function hasTool(name: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
  if (!found) console.warn(`SKIPPED ${name} checks: ${name} is not installed (Debian: see .ci/run)`);
  return found;
}

/** Run a tool; its output, or an Error with the command line and what it printed. */
export function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return `${r.stdout}${r.stderr}`;
}

/** test/reference/export_reference.py's answer (its last output line, JSON). Needs PYTHON. */
export function reference<T>(...args: string[]): T {
  return JSON.parse(
    run(PYTHON!, [REFERENCE, ...args])
      .trim()
      .split('\n')
      .pop()!,
  ) as T;
}

/** dciodvfy's error lines (warnings are listed in the README). */
export function dciodvfyErrors(file: string): string[] {
  const r = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`.split('\n').filter((line) => /^Error/.test(line));
}
