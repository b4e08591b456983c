import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { BinaryMask, SliceMasks } from '../../main/core/types';
import { cleanScanVolumes, consecutiveSlices, keepMajorComponents } from '../../main/model/volume-components';
import { pythonWith } from '../helpers/python';

const rows = (...lines: string[]): BinaryMask => ({
  width: lines[0]!.length,
  height: lines.length,
  data: Uint8Array.from(lines.join('').split(''), (c) => (c === '#' ? 1 : 0)),
});
const text = (m: BinaryMask | undefined) =>
  m ? Array.from(m.data, (v) => (v ? '#' : '.')).join('') : 'absent';

describe('keepMajorComponents (3-D, 26-connected)', () => {
  // Slice 0: a 2-pixel blob top-left and a lone pixel bottom-left. Slice 1: a blob touching slice 0's
  // top-left blob diagonally. Slice 2: empty. Slice 3: one pixel (not linked to slice 1 across the gap).
  const stack = [
    rows('##..', '....', '....', '#...'),
    rows('....', '..#.', '..#.', '....'),
    undefined,
    rows('#...', '....', '....', '....'),
  ];
  const linked = [true, true, true];

  it('joins blobs across slices that touch diagonally and keeps the largest body only at share 1', () => {
    const kept = keepMajorComponents(stack, linked, 1);
    // The top-left blob (2 px) + slice 1's blob (2 px) form one 4-voxel body; the rest are 1 voxel each.
    expect(kept.map(text)).toEqual([
      text(rows('##..', '....', '....', '....')),
      text(stack[1]),
      'absent',
      'absent',
    ]);
  });

  it('keeps bodies of at least the share of the largest, and everything at share 0', () => {
    expect(keepMajorComponents(stack, linked, 0.25).map(text)).toEqual(stack.map(text));
    expect(keepMajorComponents(stack, linked, 0).map(text)).toEqual(stack.map(text));
  });

  it('does not link slices that are not neighbours', () => {
    // Unlinked, slice 0's blob (2) and slice 1's blob (2) are equally large; the lone pixels go.
    const kept = keepMajorComponents(stack, [false, false, false], 1);
    expect(kept.map(text)).toEqual([
      text(rows('##..', '....', '....', '....')),
      text(stack[1]),
      'absent',
      'absent',
    ]);
  });

  it('cleans only organs whose post-processing asks for it, in place', () => {
    const masks: SliceMasks[] = stack.map((m) => (m ? { stomach: m, small_bowel: m } : {}));
    cleanScanVolumes(masks, linked, {
      large_bowel: {},
      small_bowel: {},
      stomach: { minVolumeShare: 1 },
    });
    expect(masks.map((m) => text(m.stomach))).toEqual(keepMajorComponents(stack, linked, 1).map(text));
    expect(masks.map((m) => text(m.small_bowel))).toEqual(stack.map(text));
  });

  it('leaves isolated slices (no two of them neighbours) alone: they are not a volume', () => {
    const masks: SliceMasks[] = stack.map((m) => (m ? { stomach: m } : {}));
    cleanScanVolumes(masks, [false, false, false], {
      large_bowel: {},
      small_bowel: {},
      stomach: { minVolumeShare: 1 },
    });
    expect(masks.map((m) => text(m.stomach))).toEqual(stack.map(text));
  });

  it('finds the same 3-D bodies as scipy.ndimage.label with a 3×3×3 structure', (ctx) => {
    const python = pythonWith(['numpy', 'scipy.ndimage']);
    if (!python) return ctx.skip();
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const [w, h, d] = [23, 17, 9];
    const volume = Array.from({ length: d }, () =>
      Uint8Array.from({ length: w * h }, () => (rand() < 0.12 ? 1 : 0)),
    );
    const py = spawnSync(
      python,
      [
        '-c',
        `import json, sys, numpy as np
from scipy import ndimage
a = np.array(json.load(sys.stdin), dtype=np.uint8).reshape(${d}, ${h}, ${w})
lab, n = ndimage.label(a, structure=np.ones((3, 3, 3)))
sizes = np.bincount(lab.ravel()); sizes[0] = 0
keep = sizes >= 0.2 * sizes.max()
print(json.dumps(keep[lab].astype(np.uint8).ravel().tolist()))`,
      ],
      { input: JSON.stringify(volume.flatMap((s) => Array.from(s))), encoding: 'utf8' },
    );
    expect(py.status, py.stderr).toBe(0);
    const expected = JSON.parse(py.stdout) as number[];
    const kept = keepMajorComponents(
      volume.map((data) => ({ width: w, height: h, data })),
      consecutiveSlices(Array.from({ length: d }, (_, i) => i + 1)),
      0.2,
    );
    const got = kept.flatMap((m) => (m ? Array.from(m.data) : new Array<number>(w * h).fill(0)));
    expect(got).toEqual(expected);
  });
});

describe('consecutiveSlices', () => {
  it('links slice numbers that follow each other only', () => {
    expect(consecutiveSlices([3, 4, 6, 7, 7])).toEqual([true, false, true, false]);
  });
});
