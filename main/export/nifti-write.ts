/**
 * NIfTI-1 writing: organ label maps (0 background, 1 large_bowel, 2 small_bowel, 3 stomach, as everywhere;
 * where organs overlap the higher label wins) and image volumes, gzipped. A NIfTI source keeps its own voxel
 * grid, shape and affine (nibabel reads the label map with the source's); other sources get the grid
 * (column, row, slice) with the affine of their DICOM (or assumed) geometry, converted from LPS to RAS.
 * Both sform and qform are written (code 1, scanner) so every reader finds the same orientation.
 */
import { gzipSync } from 'node:zlib';
import { ORGANS, categoryIdOf } from '../core/organs';
import type { IntensityType, PixelArray, Scan, SliceMasks } from '../core/types';
import { voxelToLps } from './geometry';
import type { ScanSource } from './source';

const NIFTI1_HEADER = 348;
const VOX_OFFSET = 352;

type VoxelArray = Uint8Array | Int16Array | Uint16Array | Float32Array;

const DATATYPES: Record<IntensityType, { code: number; bits: number }> = {
  uint8: { code: 2, bits: 8 },
  int16: { code: 4, bits: 16 },
  uint16: { code: 512, bits: 16 },
  float32: { code: 16, bits: 32 },
};

/** Where display slices go in the written volume. */
export interface VoxelGrid {
  dims: [number, number, number];
  /** voxel (i, j, k, 1) → RAS+ mm, three rows of four */
  affine: number[][];
  /** linear voxel index of display pixel (column c, row r) on display slice s */
  index(c: number, r: number, s: number): number;
}

export function voxelGrid(scan: Scan, source: ScanSource): VoxelGrid {
  if (source.nifti) {
    const { dims, affine, mapping } = source.nifti;
    const strides = [1, dims[0], dims[0] * dims[1]];
    const at = (axis: { axis: number; reversed: boolean }, n: number) =>
      (axis.reversed ? dims[axis.axis]! - 1 - n : n) * strides[axis.axis]!;
    return {
      dims,
      affine,
      index: (c, r, s) => at(mapping.column, c) + at(mapping.row, r) + at(mapping.slice, s),
    };
  }
  const lps = voxelToLps(source.geometry);
  const w = scan.width;
  const plane = scan.width * scan.height;
  return {
    dims: [scan.width, scan.height, scan.slices.length],
    // DICOM's LPS to NIfTI's RAS: x and y change sign.
    affine: [lps[0]!.map((v) => -v), lps[1]!.map((v) => -v), [...lps[2]!]],
    index: (c, r, s) => c + r * w + s * plane,
  };
}

/** The label volume of a scan's masks (by slice id) on a grid. */
export function labelVolume(scan: Scan, grid: VoxelGrid, masks: Map<string, SliceMasks>): Uint8Array {
  const out = new Uint8Array(grid.dims[0] * grid.dims[1] * grid.dims[2]);
  scan.slices.forEach((slice, s) => {
    const sliceMasks = masks.get(slice.id);
    if (!sliceMasks) return;
    for (const organ of ORGANS) {
      const mask = sliceMasks[organ];
      if (!mask) continue;
      const label = categoryIdOf(organ);
      for (let r = 0; r < scan.height; r++) {
        for (let c = 0; c < scan.width; c++) {
          if (mask.data[r * scan.width + c]) out[grid.index(c, r, s)] = label;
        }
      }
    }
  });
  return out;
}

/** The scan's image values on a grid, in the scan's own intensity type. */
export async function imageVolume(scan: Scan, grid: VoxelGrid): Promise<VoxelArray> {
  const count = grid.dims[0] * grid.dims[1] * grid.dims[2];
  const out: VoxelArray =
    scan.intensity === 'uint8'
      ? new Uint8Array(count)
      : scan.intensity === 'int16'
        ? new Int16Array(count)
        : scan.intensity === 'uint16'
          ? new Uint16Array(count)
          : new Float32Array(count);
  for (let s = 0; s < scan.slices.length; s++) {
    const data: PixelArray = (await scan.readSlice(s)).data;
    for (let r = 0; r < scan.height; r++) {
      for (let c = 0; c < scan.width; c++) out[grid.index(c, r, s)] = data[r * scan.width + c]!;
    }
  }
  return out;
}

/** nifti_mat44_to_quatern: the rotation part of an affine as (b, c, d), its determinant's sign as qfac. */
function quaternion(affine: number[][]): { b: number; c: number; d: number; qfac: number } {
  const col = (j: number) => [affine[0]![j]!, affine[1]![j]!, affine[2]![j]!];
  const unit = (v: number[]) => {
    const n = Math.hypot(...v) || 1;
    return v.map((x) => x / n);
  };
  const [c0, c1, c2] = [unit(col(0)), unit(col(1)), unit(col(2))];
  const det =
    c0[0]! * (c1[1]! * c2[2]! - c1[2]! * c2[1]!) -
    c1[0]! * (c0[1]! * c2[2]! - c0[2]! * c2[1]!) +
    c2[0]! * (c0[1]! * c1[2]! - c0[2]! * c1[1]!);
  const qfac = det < 0 ? -1 : 1;
  const r = (i: number, j: number) => (j === 0 ? c0[i]! : j === 1 ? c1[i]! : c2[i]! * qfac);
  let a = r(0, 0) + r(1, 1) + r(2, 2) + 1;
  let b: number;
  let c: number;
  let d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r(2, 1) - r(1, 2))) / a;
    c = (0.25 * (r(0, 2) - r(2, 0))) / a;
    d = (0.25 * (r(1, 0) - r(0, 1))) / a;
  } else {
    const xd = 1 + r(0, 0) - (r(1, 1) + r(2, 2));
    const yd = 1 + r(1, 1) - (r(0, 0) + r(2, 2));
    const zd = 1 + r(2, 2) - (r(0, 0) + r(1, 1));
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r(0, 1) + r(1, 0))) / b;
      d = (0.25 * (r(0, 2) + r(2, 0))) / b;
      a = (0.25 * (r(2, 1) - r(1, 2))) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r(0, 1) + r(1, 0))) / c;
      d = (0.25 * (r(1, 2) + r(2, 1))) / c;
      a = (0.25 * (r(0, 2) - r(2, 0))) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r(0, 2) + r(2, 0))) / d;
      c = (0.25 * (r(1, 2) + r(2, 1))) / d;
      a = (0.25 * (r(1, 0) - r(0, 1))) / d;
    }
    if (a < 0) [b, c, d] = [-b, -c, -d];
  }
  return { b, c, d, qfac };
}

/** A gzipped NIfTI-1 file of one volume on a grid. */
export function encodeNifti(
  grid: VoxelGrid,
  data: VoxelArray,
  type: IntensityType,
  description = '',
): Uint8Array {
  const { code, bits } = DATATYPES[type];
  const bytes = new Uint8Array(VOX_OFFSET + data.byteLength);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, NIFTI1_HEADER, true);
  bytes[38] = 'r'.charCodeAt(0);
  const dim = [3, ...grid.dims, 1, 1, 1, 1];
  dim.forEach((v, i) => view.setInt16(40 + 2 * i, v, true));
  view.setInt16(70, code, true);
  view.setInt16(72, bits, true);
  const q = quaternion(grid.affine);
  const spacing = [0, 1, 2].map((j) =>
    Math.hypot(grid.affine[0]![j]!, grid.affine[1]![j]!, grid.affine[2]![j]!),
  );
  [q.qfac, ...spacing, 1, 1, 1, 1].forEach((v, i) => view.setFloat32(76 + 4 * i, v, true));
  view.setFloat32(108, VOX_OFFSET, true);
  view.setFloat32(112, 1, true); // scl_slope 1: values are stored as they are
  bytes[123] = 2; // xyzt_units: millimetres
  const text = new TextEncoder().encode(description.slice(0, 79));
  bytes.set(text, 148);
  view.setInt16(252, 1, true); // qform_code: scanner
  view.setInt16(254, 1, true); // sform_code: scanner
  [q.b, q.c, q.d, grid.affine[0]![3]!, grid.affine[1]![3]!, grid.affine[2]![3]!].forEach((v, i) =>
    view.setFloat32(256 + 4 * i, v, true),
  );
  grid.affine.forEach((row, i) => row.forEach((v, j) => view.setFloat32(280 + 16 * i + 4 * j, v, true)));
  bytes.set(new TextEncoder().encode('n+1\0'), 344);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), VOX_OFFSET);
  return gzipSync(bytes);
}
