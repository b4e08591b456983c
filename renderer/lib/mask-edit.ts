/**
 * Pixel editing of one organ mask: brush and eraser strokes, flood fill, polygons, and the boundary
 * used for contour display. Pure functions on row-major 0/1 arrays so they are tested without a DOM.
 */
import { rasterizePolygons } from '../../main/masks/polygons';

export interface MaskBuffer {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Set every pixel whose centre lies within `radius` of (cx, cy) (image coordinates, pixel centres at +0.5). */
export function paintDisc(mask: MaskBuffer, cx: number, cy: number, radius: number, value: 0 | 1): number {
  const { width, height, data } = mask;
  const r2 = radius * radius;
  let changed = 0;
  const y0 = Math.max(0, Math.floor(cy - radius));
  const y1 = Math.min(height - 1, Math.ceil(cy + radius));
  const x0 = Math.max(0, Math.floor(cx - radius));
  const x1 = Math.min(width - 1, Math.ceil(cx + radius));
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - cy;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      if (dx * dx + dy * dy <= r2) {
        const i = y * width + x;
        if (data[i] !== value) {
          data[i] = value;
          changed++;
        }
      }
    }
  }
  return changed;
}

/** A brush stroke from (x0, y0) to (x1, y1): discs every half radius so fast mouse moves leave no gaps. */
export function paintSegment(
  mask: MaskBuffer,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  radius: number,
  value: 0 | 1,
): number {
  const length = Math.hypot(x1 - x0, y1 - y0);
  const steps = Math.max(1, Math.ceil(length / Math.max(0.5, radius / 2)));
  let changed = 0;
  for (let s = 0; s <= steps; s++) {
    const t = s / steps;
    changed += paintDisc(mask, x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, radius, value);
  }
  return changed;
}

/**
 * Fill the 4-connected region of equal value that contains (x, y) with `value`: inside an outline this fills
 * it, on a stray island with 0 it removes the island. Returns the number of pixels changed.
 */
export function floodFill(mask: MaskBuffer, x: number, y: number, value: 0 | 1): number {
  const { width, height, data } = mask;
  x = Math.floor(x);
  y = Math.floor(y);
  if (x < 0 || y < 0 || x >= width || y >= height) return 0;
  const target = data[y * width + x]!;
  if (target === value) return 0;
  const stack = [y * width + x];
  let changed = 0;
  while (stack.length > 0) {
    const i = stack.pop()!;
    if (data[i] !== target) continue;
    data[i] = value;
    changed++;
    const px = i % width;
    if (px > 0) stack.push(i - 1);
    if (px < width - 1) stack.push(i + 1);
    if (i >= width) stack.push(i - width);
    if (i < width * (height - 1)) stack.push(i + width);
  }
  return changed;
}

/**
 * Fill (or erase) a closed polygon given in image coordinates (pixel corners, as COCO polygons): a pixel
 * is inside when its centre is, which is what pycocotools and main/masks agree on.
 */
export function fillPolygon(mask: MaskBuffer, points: Array<[number, number]>, value: 0 | 1): number {
  if (points.length < 3) return 0;
  const inside = rasterizePolygons([points.flat()], mask.width, mask.height, 'polygon');
  let changed = 0;
  for (let i = 0; i < inside.length; i++) {
    if (inside[i] && mask.data[i] !== value) {
      mask.data[i] = value;
      changed++;
    }
  }
  return changed;
}

/** Pixels inside the mask with at least one 4-neighbour outside it (or on the image edge): the outline. */
export function boundary(mask: MaskBuffer): Uint8Array {
  const { width, height, data } = mask;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      if (!data[i]) continue;
      if (
        x === 0 ||
        y === 0 ||
        x === width - 1 ||
        y === height - 1 ||
        !data[i - 1] ||
        !data[i + 1] ||
        !data[i - width] ||
        !data[i + width]
      ) {
        out[i] = 1;
      }
    }
  }
  return out;
}
