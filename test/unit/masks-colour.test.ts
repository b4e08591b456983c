import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../main/core/errors';
import { ORGANS, type Organ } from '../../main/core/organs';
import type { SliceMasks } from '../../main/core/types';
import { cocoToSliceMasks, parseCocoDataset } from '../../main/masks/coco';
import {
  DEFAULT_COLOUR_MAP,
  colourMaskToSliceMasks,
  pixelClassifier,
  sliceMasksToColourMask,
} from '../../main/masks/colour-masks';
import { FIXTURES, describeWithSharedData, sharedPath } from '../helpers/shared-data';

const classify = pixelClassifier(DEFAULT_COLOUR_MAP);
const organOf = (r: number, g: number, b: number): Organ | 'background' => {
  const k = classify(r, g, b);
  return k < 0 ? 'background' : DEFAULT_COLOUR_MAP[k]!.organ;
};

describe('colour classification of anti-aliased pixels', () => {
  it('pure colours and black', () => {
    expect(organOf(255, 0, 0)).toBe('stomach');
    expect(organOf(255, 255, 0)).toBe('large_bowel');
    expect(organOf(0, 200, 0)).toBe('small_bowel');
    expect(organOf(0, 255, 0)).toBe('small_bowel');
    expect(organOf(0, 0, 0)).toBe('background');
  });

  it('blends with black: the organ when at least half covered', () => {
    expect(organOf(153, 0, 0)).toBe('stomach'); // 60 % red
    expect(organOf(102, 0, 0)).toBe('background'); // 40 % red
    expect(organOf(0, 120, 0)).toBe('small_bowel'); // 60 % of (0, 200, 0)
    expect(organOf(0, 80, 0)).toBe('background');
    expect(organOf(160, 160, 0)).toBe('large_bowel'); // 63 % yellow
  });

  it('a blend of two organ colours is one of those two, never the third', () => {
    // red/green 50/50 = (128, 100, 0): looks dark yellow, is not large bowel
    expect(['stomach', 'small_bowel']).toContain(organOf(128, 100, 0));
    expect(organOf(179, 60, 0)).toBe('stomach'); // 70 % red, 30 % green
    expect(organOf(77, 140, 0)).toBe('small_bowel'); // 30 % red, 70 % green
    // red/yellow blends are red or yellow, never green
    expect(organOf(255, 77, 0)).toBe('stomach');
    expect(organOf(255, 179, 0)).toBe('large_bowel');
    // yellow/green blends
    expect(organOf(178, 238, 0)).toBe('large_bowel'); // 70 % yellow
    expect(organOf(77, 217, 0)).toBe('small_bowel'); // 30 % yellow
  });

  it('colours no blend explains (the magenta separator lines of the site sample) are background', () => {
    expect(organOf(225, 24, 225)).toBe('background');
    expect(organOf(255, 0, 255)).toBe('background');
    expect(organOf(0, 0, 255)).toBe('background');
  });
});

describe('colour mask images ↔ SliceMasks', () => {
  it('round-trips non-overlapping masks through RGB and RGBA', () => {
    const w = 5;
    const h = 4;
    const mk = (pixels: number[]) => {
      const data = new Uint8Array(w * h);
      for (const p of pixels) data[p] = 1;
      return { width: w, height: h, data };
    };
    const masks: SliceMasks = { large_bowel: mk([0, 1, 5]), small_bowel: mk([7, 8, 12]), stomach: mk([19]) };
    const rgb = sliceMasksToColourMask(masks, w, h);
    expect(Array.from(rgb.slice(0, 3))).toEqual([255, 255, 0]);
    expect(Array.from(rgb.slice(57, 60))).toEqual([255, 0, 0]);
    expect(colourMaskToSliceMasks(rgb, w, h, 3)).toEqual(masks);
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([...rgb.slice(3 * i, 3 * i + 3), 255], 4 * i);
    expect(colourMaskToSliceMasks(rgba, w, h, 4)).toEqual(masks);
  });

  it('a buffer of the wrong size is an InputError', () => {
    expect(() => colourMaskToSliceMasks(new Uint8Array(10), 2, 2, 3, DEFAULT_COLOUR_MAP, 'm.png')).toThrow(
      InputError,
    );
  });
});

/** Dice per organ, summed over all slices, of colour-decoded masks against the COCO masks of the same slices. */
function diceAgainstCoco(cocoFile: string, colourDir: string, only?: string[]): Record<Organ, number> {
  const ds = parseCocoDataset(JSON.parse(readFileSync(cocoFile, 'utf8')), cocoFile);
  const truth = cocoToSliceMasks(ds, cocoFile);
  const sums = Object.fromEntries(ORGANS.map((o) => [o, { inter: 0, total: 0 }])) as Record<
    Organ,
    { inter: number; total: number }
  >;
  for (const image of ds.images) {
    const name = path.basename(image.file_name);
    if (only && !only.includes(name)) continue;
    const png = decode(readFileSync(path.join(colourDir, name)));
    const got = colourMaskToSliceMasks(png.data as Uint8Array, png.width, png.height, png.channels as 3 | 4);
    const want = truth.get(image.id)!;
    for (const organ of ORGANS) {
      const a = got[organ]?.data;
      const b = want[organ]?.data;
      for (let i = 0; i < png.width * png.height; i++) {
        const x = a?.[i] ?? 0;
        const y = b?.[i] ?? 0;
        sums[organ].inter += x & y;
        sums[organ].total += x + y;
      }
    }
  }
  return Object.fromEntries(
    ORGANS.map((o) => [o, sums[o].total === 0 ? 1 : (2 * sums[o].inter) / sums[o].total]),
  ) as Record<Organ, number>;
}

describe('colour masks against the COCO masks (fixture copies of 2 slices)', () => {
  it('Dice ≥ 0.97 per organ', () => {
    const dice = diceAgainstCoco(
      path.join(FIXTURES, 'masks/site-sample.annotations.coco.json'),
      path.join(FIXTURES, 'masks/masks-colour'),
      ['case101_day20_slice_0110.png', 'case114_day15_slice_0050.png'],
    );
    for (const organ of ORGANS) expect(dice[organ], organ).toBeGreaterThanOrEqual(0.97);
  });
});

describeWithSharedData('colour masks against site-sample/annotations.coco.json (16 slices)', () => {
  it('Dice ≥ 0.97 per organ', () => {
    const dice = diceAgainstCoco(
      sharedPath('site-sample/annotations.coco.json'),
      sharedPath('site-sample/masks-colour'),
    );
    console.info(
      `colour masks vs COCO, Dice over 16 slices: ${ORGANS.map((o) => `${o} ${dice[o].toFixed(4)}`).join(', ')}`,
    );
    for (const organ of ORGANS) expect(dice[organ], organ).toBeGreaterThanOrEqual(0.97);
  });
});
