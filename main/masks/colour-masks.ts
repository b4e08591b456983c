/**
 * Colour-coded mask images (one colour per organ on black) ↔ SliceMasks.
 *
 * Reading anti-aliased images: an edge pixel is a blend, either of one organ colour with the black background
 * (a pixel partly covered by the organ) or of two organ colours where two organs meet. With red and green a
 * 50/50 blend is a dark yellow, so "nearest colour" would wrongly call it the third organ (yellow). Instead each
 * pixel is explained by the closest of these models (least squares in RGB):
 *   background alone; organ colour × coverage α (blend with black); α·organ A + (1−α)·organ B.
 * A background blend is the organ when α ≥ ½ (the pixel is mostly covered), else background; a two-organ
 * blend belongs to the organ with the larger share, never to a third; a colour no model explains is background. This matches the COCO annotations made
 * from the same images (see test/unit/masks-colour.test.ts for Dice per organ).
 */
import { InputError } from '../core/errors';
import type { Organ } from '../core/organs';
import { ORGANS } from '../core/organs';
import type { BinaryMask, SliceMasks } from '../core/types';

export type Rgb = [number, number, number];
export type ColourMap = Array<{ organ: Organ; rgb: Rgb }>;

/**
 * Red stomach, yellow large bowel, green small bowel. The green is (0, 200, 0), as in the UW-Madison colour masks
 * of the site sample (pure (0, 255, 0) never occurs there); blends towards it are recognised all the same.
 */
export const DEFAULT_COLOUR_MAP: ColourMap = [
  { organ: 'stomach', rgb: [255, 0, 0] },
  { organ: 'large_bowel', rgb: [255, 255, 0] },
  { organ: 'small_bowel', rgb: [0, 200, 0] },
];

/** A pixel is covered by an organ blended with black when at least this share of it is the organ colour. */
const MIN_COVERAGE = 0.5;

/**
 * A colour farther than this (RGB distance) from every blend model is no organ: the site-sample masks draw
 * magenta/blue separator lines where yellow meets green (e.g. 225/24/225), which the COCO masks leave out.
 * Genuine anti-aliased blends fit their model to within a few units (8-bit rounding).
 */
const MAX_RESIDUAL = 96;

/** Decode a colour-coded RGB(A) image (row-major, 8 bits per channel) into organ masks. */
export function colourMaskToSliceMasks(
  rgba: Uint8Array,
  width: number,
  height: number,
  channels: 3 | 4,
  map: ColourMap = DEFAULT_COLOUR_MAP,
  where = 'colour mask',
): SliceMasks {
  const n = width * height;
  if (rgba.length !== n * channels) {
    throw new InputError(
      where,
      `has ${rgba.length} bytes; ${width}×${height}×${channels} needs ${n * channels}`,
    );
  }
  const classify = pixelClassifier(map);
  const data = map.map(() => new Uint8Array(n));
  const cache = new Map<number, number>(); // colour → map index or -1; masks have few distinct colours
  const present = new Uint8Array(map.length);
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    const r = rgba[o]!;
    const g = rgba[o + 1]!;
    const b = rgba[o + 2]!;
    if (r === 0 && g === 0 && b === 0) continue;
    const key = (r << 16) | (g << 8) | b;
    let k = cache.get(key);
    if (k === undefined) {
      k = classify(r, g, b);
      cache.set(key, k);
    }
    if (k >= 0) {
      data[k]![i] = 1;
      present[k] = 1;
    }
  }
  const masks: SliceMasks = {};
  map.forEach(({ organ }, k) => {
    if (present[k]) masks[organ] = { width, height, data: data[k]! };
  });
  return masks;
}

/** RGB image (3 bytes per pixel) of the masks; where organs overlap, the later organ in ORGANS order wins. */
export function sliceMasksToColourMask(
  masks: SliceMasks,
  width: number,
  height: number,
  map: ColourMap = DEFAULT_COLOUR_MAP,
): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (const organ of ORGANS) {
    const mask: BinaryMask | undefined = masks[organ];
    const colour = map.find((m) => m.organ === organ)?.rgb;
    if (!mask || !colour) continue;
    if (mask.width !== width || mask.height !== height) {
      throw new InputError(organ, `mask is ${mask.width}×${mask.height}, not ${width}×${height}`);
    }
    for (let i = 0; i < width * height; i++) {
      if (mask.data[i] === 0) continue;
      out[3 * i] = colour[0];
      out[3 * i + 1] = colour[1];
      out[3 * i + 2] = colour[2];
    }
  }
  return out;
}

/** Index into `map` of the organ a colour shows, or -1 for background, by the blend models above. */
export function pixelClassifier(map: ColourMap): (r: number, g: number, b: number) => number {
  const colours = map.map((m) => m.rgb);
  return (r, g, b) => {
    const p: Rgb = [r, g, b];
    let best = -1;
    let bestResidual = dot(p, p); // background alone
    colours.forEach((c, i) => {
      const alpha = clamp01(dot(p, c) / dot(c, c));
      const residual = distance2(p, scale(c, alpha));
      if (residual < bestResidual) {
        bestResidual = residual;
        best = alpha >= MIN_COVERAGE ? i : -1;
      }
    });
    for (let i = 0; i < colours.length; i++) {
      for (let j = i + 1; j < colours.length; j++) {
        const a = colours[i]!;
        const d = sub(a, colours[j]!);
        const alpha = clamp01(dot(sub(p, colours[j]!), d) / dot(d, d)); // share of colour i
        const residual = distance2(p, add(colours[j]!, scale(d, alpha)));
        if (residual < bestResidual) {
          bestResidual = residual;
          best = alpha >= 0.5 ? i : j;
        }
      }
    }
    return bestResidual > MAX_RESIDUAL * MAX_RESIDUAL ? -1 : best;
  };
}

const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
const dot = (a: Rgb, b: Rgb): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const sub = (a: Rgb, b: Rgb): Rgb => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const add = (a: Rgb, b: Rgb): Rgb => [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
const scale = (a: Rgb, s: number): Rgb => [a[0] * s, a[1] * s, a[2] * s];
const distance2 = (a: Rgb, b: Rgb): number => dot(sub(a, b), sub(a, b));
