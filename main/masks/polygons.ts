/**
 * COCO polygons ↔ masks.
 *
 * rasterizePolygons follows pycocotools' rleFrPoly exactly (so polygon areas match pycocotools): the outline is
 * sampled at 5× resolution, and pixel (x, y), which covers [x, x+1] × [y, y+1], is inside when its centre is
 * inside the outline, by the even-odd rule within one polygon; the polygons of one annotation are OR-ed
 * (pycocotools merges them).
 *
 * maskToPolygons traces pixel edges, not pixel centres: every vertex is a pixel corner, so rasterizing the result
 * gives back exactly the same mask (area included). One polygon per 4-connected component: its outer boundary,
 * with each hole joined to it by a "keyhole" bridge (a segment walked out and back), because COCO polygons of an
 * annotation are OR-ed and a hole drawn as a polygon of its own would be filled. The bridge walked twice cancels
 * under the even-odd rule (pycocotools) and under the non-zero rule (holes run the other way round).
 * Collinear corners are dropped, so a rectangle has four vertices.
 */
import { InputError } from '../core/errors';
import type { BinaryMask } from '../core/types';

export function rasterizePolygons(
  polys: readonly (readonly number[])[],
  width: number,
  height: number,
  where = 'polygon',
): Uint8Array {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 0 || height < 0) {
    throw new InputError(where, `image size ${width}×${height} is not a non-negative integer size`);
  }
  const mask = new Uint8Array(width * height);
  polys.forEach((poly, i) => {
    checkPolygon(poly, `${where}[${i}]`);
    paintColumnMajorCounts(polygonCounts(poly, width, height), mask, width, height);
  });
  return mask;
}

const MAX_COORDINATE = 100_000;
const MAX_OUTLINE = 4_000_000;

function checkPolygon(poly: readonly number[], where: string): void {
  if (!Array.isArray(poly) || poly.length < 6 || poly.length % 2 !== 0) {
    throw new InputError(
      where,
      'a polygon needs an even number of coordinates, at least 3 points (6 numbers)',
    );
  }
  // The outline is sampled at every 1/5 pixel: bound coordinates and total length so a corrupt file cannot
  // make us walk billions of points.
  if (!poly.every((v) => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_COORDINATE)) {
    throw new InputError(where, `polygon coordinates must be finite numbers within ±${MAX_COORDINATE}`);
  }
  let length = 0;
  for (let j = 0; j < poly.length; j += 2) {
    const k = (j + 2) % poly.length;
    length += Math.max(Math.abs(poly[k]! - poly[j]!), Math.abs(poly[k + 1]! - poly[j + 1]!));
  }
  if (length > MAX_OUTLINE)
    throw new InputError(where, `polygon outline is implausibly long (${Math.round(length)} px)`);
}

/** OR the foreground of column-major run lengths into a row-major mask. */
function paintColumnMajorCounts(
  counts: readonly number[],
  mask: Uint8Array,
  width: number,
  height: number,
): void {
  let position = 0;
  for (let j = 0; j < counts.length; j++) {
    const c = counts[j]!;
    if (j % 2 === 1) {
      for (let q = position; q < position + c; q++) {
        const x = Math.floor(q / height);
        if (x < width) mask[(q - x * height) * width + x] = 1;
      }
    }
    position += c;
  }
}

/** pycocotools' rleFrPoly: column-major run lengths of one polygon. C's (int) casts truncate toward zero. */
export function polygonCounts(poly: readonly number[], width: number, height: number): number[] {
  const scale = 5;
  const k = poly.length / 2;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let j = 0; j < k; j++) {
    xs.push(Math.trunc(scale * poly[2 * j]! + 0.5));
    ys.push(Math.trunc(scale * poly[2 * j + 1]! + 0.5));
  }
  xs.push(xs[0]!);
  ys.push(ys[0]!);
  // Dense boundary points (u, v) along every edge, one per step of the longer axis.
  const u: number[] = [];
  const v: number[] = [];
  for (let j = 0; j < k; j++) {
    let x0 = xs[j]!;
    let x1 = xs[j + 1]!;
    let y0 = ys[j]!;
    let y1 = ys[j + 1]!;
    const dx = Math.abs(x1 - x0);
    const dy = Math.abs(y0 - y1);
    const flip = (dx >= dy && x0 > x1) || (dx < dy && y0 > y1);
    if (flip) {
      [x0, x1] = [x1, x0];
      [y0, y1] = [y1, y0];
    }
    if (dx >= dy) {
      // A zero-length edge: pycocotools computes 0/0 here; its one point is the vertex itself.
      const s = dx === 0 ? 0 : (y1 - y0) / dx;
      for (let d = 0; d <= dx; d++) {
        const t = flip ? dx - d : d;
        u.push(t + x0);
        v.push(Math.trunc(y0 + s * t + 0.5));
      }
    } else {
      const s = (x1 - x0) / dy;
      for (let d = 0; d <= dy; d++) {
        const t = flip ? dy - d : d;
        v.push(t + y0);
        u.push(Math.trunc(x0 + s * t + 0.5));
      }
    }
  }
  // Where the outline crosses a pixel-centre column: toggle from the first pixel row below the crossing.
  const toggles: number[] = [];
  for (let j = 1; j < u.length; j++) {
    if (u[j] === u[j - 1]) continue;
    const xd = ((u[j]! < u[j - 1]! ? u[j]! : u[j]! - 1) + 0.5) / scale - 0.5;
    if (Math.floor(xd) !== xd || xd < 0 || xd > width - 1) continue;
    let yd = ((v[j]! < v[j - 1]! ? v[j]! : v[j - 1]!) + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > height) yd = height;
    toggles.push(xd * height + Math.ceil(yd));
  }
  toggles.push(height * width);
  toggles.sort((a, b) => a - b);
  // Differences become run lengths; two toggles at one place cancel (a zero run merges its neighbours).
  const diffs: number[] = [];
  let previous = 0;
  for (const t of toggles) {
    diffs.push(t - previous);
    previous = t;
  }
  const counts: number[] = [diffs[0]!];
  for (let j = 1; j < diffs.length;) {
    if (diffs[j]! > 0) counts.push(diffs[j++]!);
    else {
      j++;
      if (j < diffs.length) counts[counts.length - 1] += diffs[j++]!;
    }
  }
  return counts;
}

// Directions of boundary steps between pixel corners; the inside pixel is always on the right (screen
// coordinates, y down), so outer boundaries run clockwise on screen and holes counter-clockwise.
const EAST = 0;
const SOUTH = 1;
const WEST = 2;
const STEP_X = [1, 0, -1, 0];
const STEP_Y = [0, 1, 0, -1];

export function maskToPolygons(mask: BinaryMask): number[][] {
  const { width: w, height: h, data } = mask;
  const inside = (x: number, y: number): boolean =>
    x >= 0 && y >= 0 && x < w && y < h && data[y * w + x] !== 0;
  /** Is there a boundary step from corner (cx, cy) in direction dir (inside on its right)? */
  const hasStep = (cx: number, cy: number, dir: number): boolean => {
    switch (dir) {
      case EAST:
        return inside(cx, cy) && !inside(cx, cy - 1);
      case SOUTH:
        return inside(cx - 1, cy) && !inside(cx, cy);
      case WEST:
        return inside(cx - 1, cy - 1) && !inside(cx - 1, cy);
      default: // north
        return inside(cx, cy - 1) && !inside(cx - 1, cy - 1);
    }
  };
  const component = labelComponents(mask);
  // Every loop has an eastward step along the top of some pixel: those steps seed the tracing.
  const eastUsed = new Uint8Array((w + 1) * (h + 1));
  const loops = new Map<number, { outer?: number[]; holes: number[][] }>();
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (!hasStep(x, y, EAST) || eastUsed[y * (w + 1) + x]) continue;
      const ring = traceLoop(x, y, hasStep, eastUsed, w);
      const label = component[y * w + x]!;
      const entry = loops.get(label) ?? { holes: [] };
      if (signedArea2(ring) > 0) entry.outer = ring;
      else entry.holes.push(ring);
      loops.set(label, entry);
    }
  }
  const polygons: number[][] = [];
  for (const { outer, holes } of loops.values()) {
    if (outer) polygons.push(holes.length === 0 ? outer : withKeyholes(outer, holes));
  }
  return polygons;
}

/** Follow boundary steps from the top-left corner of pixel (x, y), eastward, until back; corners only. */
function traceLoop(
  x0: number,
  y0: number,
  hasStep: (cx: number, cy: number, dir: number) => boolean,
  eastUsed: Uint8Array,
  w: number,
): number[] {
  const ring: number[] = [];
  let cx = x0;
  let cy = y0;
  let dir = EAST;
  do {
    if (dir === EAST) eastUsed[cy * (w + 1) + cx] = 1;
    cx += STEP_X[dir]!;
    cy += STEP_Y[dir]!;
    // Prefer turning right (towards the inside), then straight, then left: at a corner where two pixels
    // touch only diagonally this keeps to the current pixel, so loops follow 4-connected components.
    let next = (dir + 1) % 4;
    if (!hasStep(cx, cy, next)) next = hasStep(cx, cy, dir) ? dir : (dir + 3) % 4;
    if (next !== dir) ring.push(cx, cy);
    dir = next;
  } while (cx !== x0 || cy !== y0 || dir !== EAST);
  return ring;
}

/** Twice the signed area (shoelace, y down): positive for outer boundaries, negative for holes. */
function signedArea2(ring: readonly number[]): number {
  let sum = 0;
  const n = ring.length;
  for (let i = 0; i < n; i += 2) {
    const j = (i + 2) % n;
    sum += ring[i]! * ring[j + 1]! - ring[j]! * ring[i + 1]!;
  }
  return sum;
}

/** Join each hole to the nearest corner of the outer ring by a bridge walked out and back. */
function withKeyholes(outer: readonly number[], holes: readonly number[][]): number[] {
  const bridges = new Map<number, number[][]>(); // outer vertex index → holes bridged there
  for (const hole of holes) {
    let best = 0;
    let bestDistance = Infinity;
    for (let i = 0; i < outer.length; i += 2) {
      const d = (outer[i]! - hole[0]!) ** 2 + (outer[i + 1]! - hole[1]!) ** 2;
      if (d < bestDistance) [best, bestDistance] = [i, d];
    }
    bridges.set(best, [...(bridges.get(best) ?? []), hole]);
  }
  const out: number[] = [];
  for (let i = 0; i < outer.length; i += 2) {
    out.push(outer[i]!, outer[i + 1]!);
    for (const hole of bridges.get(i) ?? []) {
      // Out to the hole, round it, back to its first corner, back to this outer corner.
      out.push(...hole, hole[0]!, hole[1]!, outer[i]!, outer[i + 1]!);
    }
  }
  return out;
}

/** 4-connected component labels (1-based; 0 outside), by an explicit-stack flood fill. */
function labelComponents(mask: BinaryMask): Int32Array {
  const { width: w, height: h, data } = mask;
  const label = new Int32Array(w * h);
  const stack: number[] = [];
  let next = 0;
  for (let start = 0; start < w * h; start++) {
    if (data[start] === 0 || label[start] !== 0) continue;
    next++;
    label[start] = next;
    stack.push(start);
    while (stack.length > 0) {
      const p = stack.pop()!;
      const x = p % w;
      const visit = (q: number): void => {
        if (data[q] !== 0 && label[q] === 0) {
          label[q] = next;
          stack.push(q);
        }
      };
      if (x > 0) visit(p - 1);
      if (x < w - 1) visit(p + 1);
      if (p >= w) visit(p - w);
      if (p < w * (h - 1)) visit(p + w);
    }
  }
  return label;
}
