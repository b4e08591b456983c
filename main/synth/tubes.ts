/**
 * Hollow organs as 3D tubes: a centreline polyline in millimetres with a radius at each point.
 * Cutting the same tube at neighbouring heights gives overlapping cross-sections, which is what makes
 * a synthetic volume continuous from slice to slice.
 */
import type { Rng } from '../model/augment/random';
import type { SliceGrid } from './render';

export interface Tube {
  /** x, y, z triplets (mm). */
  points: number[];
  /** Radius (mm) at each point. */
  radii: number[];
}

/** Catmull–Rom resampling of control points into a smooth centreline with `perSegment` steps each. */
export function smoothTube(control: Tube, perSegment: number): Tube {
  const n = control.radii.length;
  const p = (i: number, c: number): number => control.points[Math.min(n - 1, Math.max(0, i)) * 3 + c]!;
  const r = (i: number): number => control.radii[Math.min(n - 1, Math.max(0, i))]!;
  const out: Tube = { points: [], radii: [] };
  for (let i = 0; i < n - 1; i++) {
    for (let s = 0; s < perSegment; s++) {
      const t = s / perSegment;
      const t2 = t * t;
      const t3 = t2 * t;
      for (let c = 0; c < 3; c++) {
        const p0 = p(i - 1, c);
        const p1 = p(i, c);
        const p2 = p(i + 1, c);
        const p3 = p(i + 2, c);
        out.points.push(
          0.5 *
            (2 * p1 +
              (-p0 + p2) * t +
              (2 * p0 - 5 * p1 + 4 * p2 - p3) * t2 +
              (-p0 + 3 * p1 - 3 * p2 + p3) * t3),
        );
      }
      out.radii.push(r(i) + (r(i + 1) - r(i)) * t);
    }
  }
  out.points.push(p(n - 1, 0), p(n - 1, 1), p(n - 1, 2));
  out.radii.push(r(n - 1));
  return out;
}

/**
 * For each pixel of the slice at height z, how deep inside the tube it is (mm: radius minus distance
 * to the centreline, maximised over segments); pixels outside keep their value in `depth`
 * (pass a fresh array filled with -Infinity). Only segments within reach of z are visited.
 */
export function tubeDepth(tube: Tube, grid: SliceGrid, z: number, depth: Float32Array): void {
  const { width, height, pixelMm } = grid;
  const pts = tube.points;
  const n = tube.radii.length;
  for (let s = 0; s < n - 1; s++) {
    const ax = pts[s * 3]!;
    const ay = pts[s * 3 + 1]!;
    const az = pts[s * 3 + 2]!;
    const bx = pts[s * 3 + 3]!;
    const by = pts[s * 3 + 4]!;
    const bz = pts[s * 3 + 5]!;
    const ra = tube.radii[s]!;
    const rb = tube.radii[s + 1]!;
    const rMax = Math.max(ra, rb);
    if (z < Math.min(az, bz) - rMax || z > Math.max(az, bz) + rMax) continue;
    const ux = bx - ax;
    const uy = by - ay;
    const uz = bz - az;
    const len2 = ux * ux + uy * uy + uz * uz || 1e-9;
    const i0 = Math.max(0, Math.floor((Math.min(ax, bx) - rMax) / pixelMm + width / 2 - 0.5));
    const i1 = Math.min(width - 1, Math.ceil((Math.max(ax, bx) + rMax) / pixelMm + width / 2 - 0.5));
    const j0 = Math.max(0, Math.floor((Math.min(ay, by) - rMax) / pixelMm + height / 2 - 0.5));
    const j1 = Math.min(height - 1, Math.ceil((Math.max(ay, by) + rMax) / pixelMm + height / 2 - 0.5));
    for (let j = j0; j <= j1; j++) {
      const y = (j + 0.5 - height / 2) * pixelMm;
      for (let i = i0; i <= i1; i++) {
        const x = (i + 0.5 - width / 2) * pixelMm;
        const t = Math.min(1, Math.max(0, ((x - ax) * ux + (y - ay) * uy + (z - az) * uz) / len2));
        const dx = x - (ax + ux * t);
        const dy = y - (ay + uy * t);
        const dz = z - (az + uz * t);
        const d = ra + (rb - ra) * t - Math.sqrt(dx * dx + dy * dy + dz * dz);
        const k = j * width + i;
        if (d > depth[k]!) depth[k] = d;
      }
    }
  }
}

/**
 * A tortuous bowel loop: a random walk with slowly turning direction, steered back whenever it leaves
 * the ellipsoid (centre c, semi-axes e) it must stay in. Models small-bowel coils.
 */
export function randomWalkTube(
  rng: Rng,
  opts: {
    centre: [number, number, number];
    semiAxes: [number, number, number];
    steps: number;
    stepMm: number;
    radius: [lo: number, hi: number];
  },
): Tube {
  const [cx, cy, cz] = opts.centre;
  const [ex, ey, ez] = opts.semiAxes;
  let x = cx + rng.uniform(-0.6, 0.6) * ex;
  let y = cy + rng.uniform(-0.6, 0.6) * ey;
  let z = cz + rng.uniform(-0.6, 0.6) * ez;
  let dx = rng.normal();
  let dy = rng.normal();
  let dz = rng.normal() * 0.6;
  const tube: Tube = { points: [], radii: [] };
  let radius = rng.uniform(...opts.radius);
  for (let s = 0; s < opts.steps; s++) {
    tube.points.push(x, y, z);
    tube.radii.push(radius);
    dx += rng.normal() * 0.45;
    dy += rng.normal() * 0.45;
    dz += rng.normal() * 0.3;
    const ox = (x - cx) / ex;
    const oy = (y - cy) / ey;
    const oz = (z - cz) / ez;
    const out = ox * ox + oy * oy + oz * oz;
    if (out > 0.8) {
      // steer back towards the centre, harder the further out
      dx -= ox * out * 0.8;
      dy -= oy * out * 0.8;
      dz -= oz * out * 0.8;
    }
    const norm = Math.hypot(dx, dy, dz) || 1;
    dx /= norm;
    dy /= norm;
    dz /= norm;
    x += dx * opts.stepMm;
    y += dy * opts.stepMm;
    z += dz * opts.stepMm;
    radius = Math.min(opts.radius[1], Math.max(opts.radius[0], radius + rng.normal() * 0.4));
  }
  return tube;
}
