/**
 * Access to `../shared/data` (real data written by others). A clone elsewhere has no such folder:
 * tests that need it are skipped with a visible message instead of failing.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '../..');
export const SHARED_DATA = path.resolve(REPO_ROOT, '../shared/data');
export const FIXTURES = path.join(REPO_ROOT, 'test/fixtures');
export const hasSharedData = existsSync(path.join(SHARED_DATA, 'README.md'));

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DATA, ...parts);
}

/** `describe` when ../shared/data exists, else a skipped suite whose name says why. */
export function describeWithSharedData(name: string, fn: () => void): void {
  if (hasSharedData) describe(name, fn);
  else {
    // The body is not run at all: suites may list ../shared files while collecting their tests.
    console.warn(`SKIPPED (no ../shared/data beside the checkout): ${name}`);
    describe(`${name} [skipped: ../shared/data not present]`, () => {
      it.skip('needs ../shared/data beside the checkout', () => {});
    });
  }
}
