/**
 * Where each pixel of a scan lies in the patient, in DICOM patient coordinates (LPS+, millimetres): the
 * geometry every export needs (contour points, SEG plane positions, NIfTI affines). Pure: no Node, no DOM.
 *
 * Pixel (column c, row r) of slice s has its centre at
 *   positions[s] + c · pixelSpacing[1] · orientation[0] + r · pixelSpacing[0] · orientation[1]
 * exactly as DICOM's Image Plane module defines ImagePositionPatient / ImageOrientationPatient / PixelSpacing.
 */
import type { BinaryMask } from '../core/types';
import { maskToPolygons } from '../masks/polygons';

export type Vec3 = [number, number, number];

export interface ScanGeometry {
  rows: number;
  columns: number;
  /** ImageOrientationPatient: direction of increasing column (along a row), then of increasing row. */
  orientation: [Vec3, Vec3];
  /** ImagePositionPatient of each slice (centre of its first pixel), in scan order. */
  positions: Vec3[];
  /** [between rows, between columns] mm. */
  pixelSpacing: [number, number];
  /** mm; the nominal thickness written with the images. */
  sliceThickness: number;
  /** True when the source gave no geometry and this one is Tractus's assumption (PNG inputs). */
  assumed: boolean;
}

export function add(a: Vec3, b: Vec3): Vec3 {
  return [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
}

export function sub(a: Vec3, b: Vec3): Vec3 {
  return [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
}

export function scale(a: Vec3, k: number): Vec3 {
  return [a[0] * k, a[1] * k, a[2] * k];
}

export function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function norm(a: Vec3): number {
  return Math.hypot(a[0], a[1], a[2]);
}

/** Patient position (LPS mm) of continuous pixel coordinates (x along columns, y along rows) on a slice. */
export function pixelToPatient(g: ScanGeometry, slice: number, x: number, y: number): Vec3 {
  const origin = g.positions[slice]!;
  const [rowDir, colDir] = g.orientation;
  return add(origin, add(scale(rowDir, x * g.pixelSpacing[1]), scale(colDir, y * g.pixelSpacing[0])));
}

/** Continuous pixel coordinates (x, y) of a patient point projected on a slice's plane. */
export function patientToPixel(g: ScanGeometry, slice: number, p: Vec3): [x: number, y: number] {
  const d = sub(p, g.positions[slice]!);
  return [dot(d, g.orientation[0]) / g.pixelSpacing[1], dot(d, g.orientation[1]) / g.pixelSpacing[0]];
}

/** The unit slice normal (row direction × column direction). */
export function sliceNormal(g: ScanGeometry): Vec3 {
  const n = cross(g.orientation[0], g.orientation[1]);
  return scale(n, 1 / norm(n));
}

/** Median distance between neighbouring slice positions along the normal; the thickness for one slice. */
export function sliceSpacingOf(g: ScanGeometry): number {
  const normal = sliceNormal(g);
  const gaps: number[] = [];
  for (let i = 1; i < g.positions.length; i++) {
    gaps.push(Math.abs(dot(sub(g.positions[i]!, g.positions[i - 1]!), normal)));
  }
  gaps.sort((a, b) => a - b);
  const gap = gaps[Math.floor(gaps.length / 2)];
  return gap !== undefined && gap > 0 ? gap : g.sliceThickness;
}

/**
 * The slice whose plane a patient point lies in (within a quarter of the slice spacing), or -1. Used to put
 * contours read from an RTSTRUCT or SEG frames back on the right slice.
 */
export function sliceAt(g: ScanGeometry, p: Vec3): number {
  const normal = sliceNormal(g);
  const tolerance = sliceSpacingOf(g) / 4;
  const along = dot(p, normal);
  let best = -1;
  let bestDistance = Infinity;
  g.positions.forEach((position, i) => {
    const d = Math.abs(dot(position, normal) - along);
    if (d < bestDistance) [best, bestDistance] = [i, d];
  });
  return bestDistance <= tolerance ? best : -1;
}

/**
 * A mask's closed planar contours in patient mm, one flat [x, y, z, x, y, z, …] list per contour. The
 * outlines follow pixel edges (maskToPolygons: every vertex a pixel corner), so a rasteriser that tests pixel
 * centres gives the mask back exactly. Holes are joined to their outline by a zero-width "keyhole" cut, the
 * form RT planning systems import as a hole (a separate inner contour would be read as a second structure
 * by some and subtracted by others).
 */
export function maskContours(g: ScanGeometry, slice: number, mask: BinaryMask): number[][] {
  return maskToPolygons(mask).map((polygon) => {
    const points: number[] = [];
    for (let i = 0; i < polygon.length; i += 2) {
      // A pixel corner (x, y) is half a pixel before the centre of pixel (x, y).
      points.push(...pixelToPatient(g, slice, polygon[i]! - 0.5, polygon[i + 1]! - 0.5));
    }
    return points;
  });
}

/**
 * The 4×4 affine from voxel (column, row, slice) to patient LPS mm, rows x, y, z, 0 0 0 1 implied: the
 * third column steps from the first slice's position toward the last.
 */
export function voxelToLps(g: ScanGeometry): [number[], number[], number[]] {
  const [rowDir, colDir] = g.orientation;
  const first = g.positions[0]!;
  const n = g.positions.length;
  const step =
    n > 1 ? scale(sub(g.positions[n - 1]!, first), 1 / (n - 1)) : scale(sliceNormal(g), g.sliceThickness);
  const c = scale(rowDir, g.pixelSpacing[1]);
  const r = scale(colDir, g.pixelSpacing[0]);
  return [0, 1, 2].map((axis) => [c[axis]!, r[axis]!, step[axis]!, first[axis]!]) as [
    number[],
    number[],
    number[],
  ];
}
