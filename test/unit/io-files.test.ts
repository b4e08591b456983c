import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../main/core/errors';
import { readSmallFileOrExplain } from '../../main/io/files';

const dir = mkdtempSync(path.join(tmpdir(), 'tractus-io-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

describe('readSmallFileOrExplain (one reused buffer)', () => {
  it('reads each file whole, whatever the order of sizes', () => {
    const bytesOf = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * seed) % 251);
    // Small, then larger than any buffer so far (it grows), then small again, then empty.
    for (const [n, seed] of [
      [10, 3],
      [300_000, 7],
      [5, 11],
      [0, 1],
      [70_000, 13],
    ] as const) {
      const expected = bytesOf(n, seed);
      const got = readSmallFileOrExplain(file(`f${n}.bin`, expected));
      expect(got.length).toBe(n);
      expect(Buffer.compare(got, Buffer.from(expected))).toBe(0);
    }
  });

  it('names a missing file and a folder instead of throwing a system error', () => {
    const missing = path.join(dir, 'nope.png');
    expect(() => readSmallFileOrExplain(missing)).toThrow(InputError);
    expect(() => readSmallFileOrExplain(missing)).toThrow(/nope\.png.*not found|not found/);
    expect(() => readSmallFileOrExplain(dir)).toThrow(InputError);
  });
});
