/**
 * From a probability map to an organ mask: threshold, empty-organ gate, small-component removal.
 * Every number comes from the model card (`OrganPostprocess`), none is fixed here.
 */
import type { BinaryMask, PixelBox } from '../core/types';
import { pixelKernels, type PixelKernels } from '../kernels/pixels';

/** One organ's post-processing, from the model card (whose schema, in card.ts, checks these ranges). */
export interface OrganPostprocess {
  /** A pixel belongs to the organ when its probability is above this (0–1). */
  threshold: number;
  /**
   * Empty-organ gate (as the winning Kaggle solution did): the organ is kept on a slice only when at least
   * `gateMinPixels` pixels exceed `gateThreshold`, a stricter bar than `threshold`. Removes faint
   * false positives on slices where the organ is absent.
   */
  gateThreshold: number;
  gateMinPixels: number;
  /** Same in mm²; used instead of `gateMinPixels` when the slice's pixel spacing is known. */
  gateMinMm2?: number;
  /** Connected components (8-neighbour) smaller than this many pixels are dropped. */
  minComponentPixels: number;
  /** Same in mm²; used instead of `minComponentPixels` when the slice's pixel spacing is known. */
  minComponentMm2?: number;
  /**
   * Over a whole scan (see volume-components.ts): 3-D components with fewer voxels than this share of the
   * organ's largest one are dropped (1: the largest only). Absent or 0: no 3-D cleanup.
   */
  minVolumeShare?: number;
}

export interface OrganResult {
  /** Undefined when the organ is judged absent from the slice. */
  mask: BinaryMask | undefined;
  /** Mean probability inside the mask (0 when absent): the COCO result score. */
  score: number;
}

/**
 * Label the 8-connected foreground components of `mask`: returns the component id of
 * each pixel (0 = background, 1…n) and each component's size (index 0 unused).
 */
export function labelComponents(mask: BinaryMask): { labels: Int32Array; sizes: number[] } {
  return labelBox(mask, { x0: 0, x1: mask.width, y0: 0, y1: mask.height });
}

/**
 * labelComponents inside `box` only, the mask being 0 outside it: `labels` holds the box's pixels, row by
 * row (box-sized arrays instead of two of the slice's size for every organ found).
 */
function labelBox(mask: BinaryMask, box: PixelBox): { labels: Int32Array; sizes: number[] } {
  const { width, data } = mask;
  const w = box.x1 - box.x0;
  const h = box.y1 - box.y0;
  const labels = new Int32Array(w * h);
  const sizes = [0];
  const stack = new Int32Array(w * h);
  // Box pixel `start` is mask pixel `src`.
  for (let by = 0, start = 0; by < h; by++) {
    for (let src = (box.y0 + by) * width + box.x0, end = src + w; src < end; src++, start++) {
      if (!data[src] || labels[start]) continue;
      const id = sizes.length;
      let size = 0;
      let top = 0;
      stack[top++] = start;
      labels[start] = id;
      while (top > 0) {
        const p = stack[--top]!;
        size++;
        const x = p % w;
        const y = (p - x) / w;
        for (let dy = -1; dy <= 1; dy++) {
          const ny = y + dy;
          if (ny < 0 || ny >= h) continue;
          const row = (box.y0 + ny) * width + box.x0;
          for (let dx = -1; dx <= 1; dx++) {
            const nx = x + dx;
            if (nx < 0 || nx >= w) continue;
            const q = ny * w + nx;
            if (data[row + nx] && !labels[q]) {
              labels[q] = id;
              stack[top++] = q;
            }
          }
        }
      }
      sizes.push(size);
    }
  }
  return { labels, sizes };
}

/**
 * Drop 8-connected components smaller than `minPixels` (in place); returns how many pixels were cleared.
 * `box`: where the mask may be non-zero (default: all of it).
 */
export function removeSmallComponents(
  mask: BinaryMask,
  minPixels: number,
  box: PixelBox = { x0: 0, x1: mask.width, y0: 0, y1: mask.height },
): number {
  if (minPixels <= 1) return 0;
  const { labels, sizes } = labelBox(mask, box);
  const w = box.x1 - box.x0;
  let cleared = 0;
  for (let p = 0; p < labels.length; p++) {
    const id = labels[p]!;
    if (id && sizes[id]! < minPixels) {
      const x = p % w;
      mask.data[(box.y0 + (p - x) / w) * mask.width + box.x0 + x] = 0;
      cleared++;
    }
  }
  return cleared;
}

/**
 * An area rule in pixels: the mm² value when it is given and the spacing is known (so the rule covers the
 * same anatomy at any resolution), else the pixel value.
 */
function areaInPixels(
  pixels: number,
  mm2: number | undefined,
  spacing: [row: number, column: number] | null,
): number {
  if (mm2 !== undefined && spacing && spacing[0] > 0 && spacing[1] > 0) {
    return Math.ceil(mm2 / (spacing[0] * spacing[1]));
  }
  return pixels;
}

/** Minimum component size in pixels: the mm² rule when spacing is known, else the pixel rule. */
export function minComponentPixelsFor(
  p: OrganPostprocess,
  spacing: [row: number, column: number] | null,
): number {
  return areaInPixels(p.minComponentPixels, p.minComponentMm2, spacing);
}

/** Empty-organ gate in pixels: the mm² rule when spacing is known, else the pixel rule. */
export function gateMinPixelsFor(p: OrganPostprocess, spacing: [row: number, column: number] | null): number {
  return areaInPixels(p.gateMinPixels, p.gateMinMm2, spacing);
}

/**
 * Turn one organ's probability map (row-major, width×height) into its mask on that slice. `box`: where the
 * map may reach a threshold (below both everywhere else; default: all of it), the only pixels visited.
 */
export function postprocessOrgan(
  prob: Float32Array,
  width: number,
  height: number,
  p: OrganPostprocess,
  spacing: [row: number, column: number] | null = null,
  box: PixelBox = { x0: 0, x1: width, y0: 0, y1: height },
): OrganResult {
  const k = pixelKernels();
  const [probAt, maskAt] = k.layout([prob.byteLength, boxArea(box)]);
  k.copyIn(prob, probAt!);
  return postprocessOrganIn(k, probAt!, width, height, p, spacing, box, maskAt!);
}

/** Pixels of a box (0 when empty). */
function boxArea(box: PixelBox): number {
  return Math.max(0, box.x1 - box.x0) * Math.max(0, box.y1 - box.y0);
}

/**
 * postprocessOrgan on a map already in the WebAssembly kernels' memory (float32 at `probAt`), with
 * boxArea(box) bytes of room at `maskAt`: the threshold and gate counts run there (main/kernels/pixels.c).
 */
export function postprocessOrganIn(
  k: PixelKernels,
  probAt: number,
  width: number,
  height: number,
  p: OrganPostprocess,
  spacing: [row: number, column: number] | null,
  box: PixelBox,
  maskAt: number,
): OrganResult {
  // Pixels above the threshold and their probability sum, in pixel order: the score when no component
  // is removed (the sum is then the one the loop below would make, added in the same order).
  const found = k.thresholdBox(probAt, width, box, p.threshold, p.gateThreshold, maskAt);
  let { count, sum } = found;
  if (count === 0 || found.gateCount < gateMinPixelsFor(p, spacing)) return { mask: undefined, score: 0 };
  const data = new Uint8Array(width * height);
  const boxWidth = box.x1 - box.x0;
  const inBox = k.u8(maskAt, boxArea(box));
  for (let y = box.y0, r = 0; y < box.y1; y++, r += boxWidth) {
    data.set(inBox.subarray(r, r + boxWidth), y * width + box.x0);
  }
  const mask: BinaryMask = { width, height, data };
  if (removeSmallComponents(mask, minComponentPixelsFor(p, spacing), box) > 0) {
    const prob = k.f32(probAt, width * height);
    sum = 0;
    count = 0;
    for (let y = box.y0; y < box.y1; y++) {
      for (let i = y * width + box.x0, end = y * width + box.x1; i < end; i++) {
        if (data[i]) {
          sum += prob[i]!;
          count++;
        }
      }
    }
  }
  return count === 0 ? { mask: undefined, score: 0 } : { mask, score: sum / count };
}
