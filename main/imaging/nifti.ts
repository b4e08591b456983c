/**
 * NIfTI-1 and NIfTI-2 volumes (.nii, .nii.gz) → one scan of axial slices in radiological display
 * convention, the way an axial DICOM is shown: rows run anterior → posterior, columns patient right →
 * patient left (so patient right is on the image's left), slices inferior → superior.
 *
 * NIfTI world coordinates are RAS+: +x is patient RIGHT, +y anterior, +z superior (DICOM's LPS+ with x
 * and y negated). Columns therefore run toward −x.
 *
 * The voxel → world (RAS+) affine comes from the sform when sform_code > 0, else the qform quaternion when
 * qform_code > 0, else the voxel sizes alone (NIfTI "method 1", treated as RAS: the file says nothing).
 * Each voxel axis is matched to the world axis it runs most along, so volumes stored sagittally or
 * flipped are resliced to axial without resampling (obliques are shown in their nearest orientation).
 */
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../core/errors';
import { sliceId } from '../core/ids';
import { orientationLetters, type LpsDirection, type OrientationLetters } from '../core/orientation';
import type { Dataset, DatasetWarning, Scan, SliceImage } from '../core/types';
import { readFileOrExplain } from '../io/files';
import { assembleDataset } from './assemble';
import { convertValues, intensityForRange } from './intensity';

interface DataTypeInfo {
  name: string;
  bytes: number;
  signed: boolean;
  read: (view: DataView, offset: number, little: boolean) => number;
}

const DATA_TYPES: Record<number, DataTypeInfo> = {
  2: { name: 'uint8', bytes: 1, signed: false, read: (v, o) => v.getUint8(o) },
  4: { name: 'int16', bytes: 2, signed: true, read: (v, o, le) => v.getInt16(o, le) },
  8: { name: 'int32', bytes: 4, signed: true, read: (v, o, le) => v.getInt32(o, le) },
  16: { name: 'float32', bytes: 4, signed: true, read: (v, o, le) => v.getFloat32(o, le) },
  64: { name: 'float64', bytes: 8, signed: true, read: (v, o, le) => v.getFloat64(o, le) },
  256: { name: 'int8', bytes: 1, signed: true, read: (v, o) => v.getInt8(o) },
  512: { name: 'uint16', bytes: 2, signed: false, read: (v, o, le) => v.getUint16(o, le) },
  768: { name: 'uint32', bytes: 4, signed: false, read: (v, o, le) => v.getUint32(o, le) },
};

type Matrix3x4 = [number[], number[], number[]];

export interface NiftiHeader {
  version: 1 | 2;
  littleEndian: boolean;
  /** voxels along i, j, k (missing dimensions are 1) */
  dims: [number, number, number];
  /** volumes in a 4-D file (only the first is shown) */
  volumes: number;
  datatype: number;
  voxOffset: number;
  sclSlope: number;
  sclInter: number;
  /** voxel (i, j, k, 1) → RAS+ mm, rows x, y, z */
  affine: Matrix3x4;
  affineSource: 'sform' | 'qform' | 'pixdim';
}

const NIFTI1_SIZE = 348;
const NIFTI2_SIZE = 540;

/** 1 GiB of voxels is beyond any abdominal MR; larger means a corrupt header. */
const MAX_VOLUME_BYTES = 1 << 30;

function quaternionAffine(
  b: number,
  c: number,
  d: number,
  qfac: number,
  pix: number[],
  offset: number[],
): Matrix3x4 {
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const r = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - b * b - c * c],
  ];
  const scale = [pix[0]!, pix[1]!, pix[2]! * qfac];
  return r.map((row, i) => [
    row[0]! * scale[0]!,
    row[1]! * scale[1]!,
    row[2]! * scale[2]!,
    offset[i]!,
  ]) as Matrix3x4;
}

/** Parse the header of a NIfTI-1 or NIfTI-2 file (bytes already gunzipped). */
export function parseNiftiHeader(bytes: Uint8Array, where: string): NiftiHeader {
  if (bytes.length < NIFTI1_SIZE)
    throw new InputError(where, `too short for a NIfTI header (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // sizeof_hdr is 348 or 540 in the file's own byte order: that tells version and endianness.
  let little: boolean;
  let version: 1 | 2;
  const le = view.getInt32(0, true);
  const be = view.getInt32(0, false);
  if (le === NIFTI1_SIZE || be === NIFTI1_SIZE) [version, little] = [1, le === NIFTI1_SIZE];
  else if (le === NIFTI2_SIZE || be === NIFTI2_SIZE) [version, little] = [2, le === NIFTI2_SIZE];
  else
    throw new InputError(where, 'not a NIfTI file (header size is neither 348 nor 540 in either byte order)');
  if (version === 2 && bytes.length < NIFTI2_SIZE) throw new InputError(where, 'truncated NIfTI-2 header');

  const i16 = (o: number) => view.getInt16(o, little);
  const i32 = (o: number) => view.getInt32(o, little);
  const f32 = (o: number) => view.getFloat32(o, little);
  const f64 = (o: number) => view.getFloat64(o, little);
  const i64 = (o: number) => Number(view.getBigInt64(o, little));
  const magic = String.fromCharCode(...bytes.subarray(version === 1 ? 344 : 4, version === 1 ? 347 : 7));
  if (magic === 'ni1' || magic === 'ni2') {
    throw new InputError(where, 'header-only NIfTI (.hdr/.img pair); open a single-file .nii instead');
  }
  if (magic !== (version === 1 ? 'n+1' : 'n+2')) throw new InputError(where, `bad NIfTI magic "${magic}"`);

  const dim = Array.from({ length: 8 }, (_, n) => (version === 1 ? i16(40 + 2 * n) : i64(16 + 8 * n)));
  const pixdim = Array.from({ length: 8 }, (_, n) => (version === 1 ? f32(76 + 4 * n) : f64(104 + 8 * n)));
  const rank = dim[0]!;
  if (!(rank >= 1 && rank <= 7)) throw new InputError(where, `bad number of dimensions ${rank}`);
  const size = (n: number) => (n <= rank ? dim[n]! : 1);
  const dims: [number, number, number] = [size(1), size(2), size(3)];
  if (dims.some((d) => !(Number.isInteger(d) && d >= 1))) {
    throw new InputError(where, `bad volume size ${dims.join('×')}`);
  }
  const volumes = [4, 5, 6, 7].reduce((n, d) => n * Math.max(1, size(d)), 1);
  const datatype = version === 1 ? i16(70) : i16(12);
  const type = DATA_TYPES[datatype];
  if (!type)
    throw new InputError(where, `NIfTI datatype ${datatype} is not supported (integers and floats are)`);
  if (dims[0] * dims[1] * dims[2] * type.bytes > MAX_VOLUME_BYTES) {
    throw new InputError(where, `implausibly large volume ${dims.join('×')} (corrupt header?)`);
  }
  const voxOffset = version === 1 ? f32(108) : i64(168);
  if (!(Number.isFinite(voxOffset) && voxOffset >= (version === 1 ? NIFTI1_SIZE : NIFTI2_SIZE))) {
    throw new InputError(where, `bad vox_offset ${voxOffset}`);
  }
  const sclSlope = version === 1 ? f32(112) : f64(176);
  const sclInter = version === 1 ? f32(116) : f64(184);
  const qformCode = version === 1 ? i16(252) : i32(344);
  const sformCode = version === 1 ? i16(254) : i32(348);
  const spacing = [1, 2, 3].map((n) =>
    Math.abs(pixdim[n]!) > 0 && Number.isFinite(pixdim[n]) ? Math.abs(pixdim[n]!) : 1,
  );

  let affine: Matrix3x4;
  let affineSource: NiftiHeader['affineSource'];
  if (sformCode > 0) {
    const row = (o: number, step: number) =>
      [0, 1, 2, 3].map((n) => (version === 1 ? f32(o + 4 * n) : f64(o + step * n)));
    affine =
      version === 1 ? [row(280, 4), row(296, 4), row(312, 4)] : [row(400, 8), row(432, 8), row(464, 8)];
    affineSource = 'sform';
  } else if (qformCode > 0) {
    const q =
      version === 1 ? [256, 260, 264, 268, 272, 276].map(f32) : [352, 360, 368, 376, 384, 392].map(f64);
    const qfac = pixdim[0]! < 0 ? -1 : 1;
    affine = quaternionAffine(q[0]!, q[1]!, q[2]!, qfac, spacing, q.slice(3));
    affineSource = 'qform';
  } else {
    affine = [
      [spacing[0]!, 0, 0, 0],
      [0, spacing[1]!, 0, 0],
      [0, 0, spacing[2]!, 0],
    ];
    affineSource = 'pixdim';
  }
  if (affine.flat().some((v) => !Number.isFinite(v)))
    throw new InputError(where, 'orientation matrix has non-numbers');
  return {
    version,
    littleEndian: little,
    dims,
    volumes,
    datatype,
    voxOffset,
    sclSlope,
    sclInter,
    affine,
    affineSource,
  };
}

/** How voxel axes become display axes: for each of column, row, slice the voxel axis and whether it is reversed. */
export interface DisplayMapping {
  column: { axis: number; reversed: boolean };
  row: { axis: number; reversed: boolean };
  slice: { axis: number; reversed: boolean };
  /** mm along column, row and slice directions */
  spacing: { column: number; row: number; slice: number };
}

/**
 * Match each voxel axis to the world axis it runs most along (largest |component| first, so the result is
 * a permutation) and reverse it where needed: columns increase toward patient left (−x in RAS+), rows
 * toward posterior (−y), slices toward superior (+z).
 */
export function displayMapping(affine: Matrix3x4, where: string): DisplayMapping {
  const column = (axis: number) => [affine[0][axis]!, affine[1][axis]!, affine[2][axis]!];
  const candidates: { axis: number; world: number; weight: number }[] = [];
  for (let axis = 0; axis < 3; axis++) {
    const c = column(axis);
    const norm = Math.hypot(...c);
    if (norm === 0)
      throw new InputError(where, `orientation matrix gives voxel axis ${axis + 1} no direction`);
    for (let world = 0; world < 3; world++)
      candidates.push({ axis, world, weight: Math.abs(c[world]!) / norm });
  }
  candidates.sort((a, b) => b.weight - a.weight);
  const axisOfWorld: number[] = [-1, -1, -1];
  const usedAxes = new Set<number>();
  for (const { axis, world } of candidates) {
    if (axisOfWorld[world] !== -1 || usedAxes.has(axis)) continue;
    axisOfWorld[world] = axis;
    usedAxes.add(axis);
  }
  const along = (world: number, towardPositive: boolean) => {
    const axis = axisOfWorld[world]!;
    const component = column(axis)[world]!;
    return { axis, reversed: towardPositive ? component < 0 : component > 0 };
  };
  const norm = (world: number) => Math.hypot(...column(axisOfWorld[world]!));
  return {
    column: along(0, false), // RAS+: +x is patient right, so patient left is −x
    row: along(1, false), // rows run toward posterior = −y
    slice: along(2, true), // +z = superior
    spacing: { column: norm(0), row: norm(1), slice: norm(2) },
  };
}

/**
 * Letters at the displayed image's edges, from the true directions of the display's column and row axes
 * (an oblique volume, snapped to the nearest axis, gets two-letter labels such as 'RA').
 */
export function displayOrientation(affine: Matrix3x4, mapping: DisplayMapping): OrientationLetters {
  const lpsDirection = ({ axis, reversed }: { axis: number; reversed: boolean }): LpsDirection => {
    const sign = reversed ? -1 : 1;
    // RAS+ → LPS+: negate x and y
    return [-sign * affine[0][axis]!, -sign * affine[1][axis]!, sign * affine[2][axis]!];
  };
  return orientationLetters(lpsDirection(mapping.column), lpsDirection(mapping.row));
}

function orientationOf(header: NiftiHeader, mapping: DisplayMapping): OrientationLetters {
  const letters = displayOrientation(header.affine, mapping);
  // without sform/qform the file says nothing: the letters rest on the RAS assumption warned about
  return header.affineSource === 'pixdim' ? { ...letters, assumed: true } : letters;
}

/** A loaded volume: header, a reader of its scaled voxel values (first volume) and how to show it. */
export interface NiftiVolume {
  header: NiftiHeader;
  mapping: DisplayMapping;
  /** scaled value of voxel n (i + j·ni + k·ni·nj); the raw bytes stay as they are, 1× the file in memory */
  voxel: (n: number) => number;
  /** min/max/integrality of all scaled voxel values */
  range: { min: number; max: number; integral: boolean };
  warnings: DatasetWarning[];
}

export function decodeNifti(fileBytes: Uint8Array, where: string): NiftiVolume {
  let bytes = fileBytes;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new InputError(where, `corrupt or truncated gzip data (${(e as Error).message})`, { cause: e });
    }
  }
  const header = parseNiftiHeader(bytes, where);
  const mapping = displayMapping(header.affine, where);
  const type = DATA_TYPES[header.datatype]!;
  const count = header.dims[0] * header.dims[1] * header.dims[2];
  const needed = header.voxOffset + count * type.bytes;
  if (bytes.length < needed) {
    throw new InputError(where, `truncated voxel data (expected ${needed} bytes, found ${bytes.length})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // NIfTI: scl_slope 0 (or not a number) means "no scaling".
  const scaled = Number.isFinite(header.sclSlope) && header.sclSlope !== 0;
  const slope = scaled ? header.sclSlope : 1;
  const inter = scaled && Number.isFinite(header.sclInter) ? header.sclInter : 0;
  const { voxOffset, littleEndian } = header;
  const voxel = (n: number) => type.read(view, voxOffset + n * type.bytes, littleEndian) * slope + inter;
  let [min, max, integral] = [Infinity, -Infinity, true];
  for (let n = 0; n < count; n++) {
    const v = voxel(n);
    if (!Number.isFinite(v)) throw new InputError(where, `voxel ${n} is NaN or infinite`);
    if (v < min) min = v;
    if (v > max) max = v;
    if (integral && !Number.isInteger(v)) integral = false;
  }
  const warnings: DatasetWarning[] = [];
  if (header.volumes > 1) {
    warnings.push({ where, problem: `${header.volumes} volumes in the file; only the first is shown` });
  }
  if (header.affineSource === 'pixdim') {
    warnings.push({ where, problem: 'no sform or qform: orientation unknown, assumed RAS' });
  }
  return { header, mapping, voxel, range: { min, max, integral }, warnings };
}

/** One display slice (index along inferior → superior) of a decoded volume. */
function displaySlice(volume: NiftiVolume, index: number): Float64Array {
  const { dims } = volume.header;
  const { column, row, slice } = volume.mapping;
  const strides = [1, dims[0], dims[0] * dims[1]];
  const width = dims[column.axis]!;
  const height = dims[row.axis]!;
  const depth = dims[slice.axis]!;
  const k = slice.reversed ? depth - 1 - index : index;
  const out = new Float64Array(width * height);
  for (let r = 0; r < height; r++) {
    const vr = row.reversed ? height - 1 - r : r;
    for (let c = 0; c < width; c++) {
      const vc = column.reversed ? width - 1 - c : c;
      out[r * width + c] = volume.voxel(
        vc * strides[column.axis]! + vr * strides[row.axis]! + k * strides[slice.axis]!,
      );
    }
  }
  return out;
}

/** Scan identity from the file name: a `caseN_dayD` in it, else the name without .nii(.gz). */
function identityOf(file: string): { id: string; patientId: string; day: string } {
  const name = path.basename(file).replace(/\.nii(\.gz)?$/i, '');
  const m = /(case\d+)_(day\d+)/.exec(name);
  if (m) return { id: `${m[1]}_${m[2]}`, patientId: m[1]!, day: m[2]! };
  return { id: name, patientId: name, day: 'unknown' };
}

export async function openNifti(file: string): Promise<Dataset> {
  const volume = decodeNifti(await readFileOrExplain(file), file);
  const { dims } = volume.header;
  const { column, row, slice, spacing } = volume.mapping;
  const width = dims[column.axis]!;
  const height = dims[row.axis]!;
  const depth = dims[slice.axis]!;
  const type = DATA_TYPES[volume.header.datatype]!;
  const scaled = volume.header.sclSlope !== 0 && Number.isFinite(volume.header.sclSlope);
  const intensity = intensityForRange({
    ...volume.range,
    // a float volume stays float even when today's values happen to be whole numbers
    integral: volume.range.integral && !type.name.startsWith('float'),
    bytes:
      type.name === 'uint8' && !(scaled && (volume.header.sclSlope !== 1 || volume.header.sclInter !== 0)),
    signed: type.signed,
  });
  const identity = identityOf(file);
  const round = (v: number) => Math.round(v * 1e4) / 1e4;
  const scan: Scan = {
    id: identity.id,
    patientId: identity.patientId,
    studyId: identity.id,
    day: identity.day,
    width,
    height,
    pixelSpacing: [round(spacing.row), round(spacing.column)],
    sliceThickness: round(spacing.slice),
    sliceSpacing: round(spacing.slice),
    intensity,
    source: 'nifti',
    orientation: orientationOf(volume.header, volume.mapping),
    slices: Array.from({ length: depth }, (_, n) => ({
      id: sliceId(identity.id, n + 1),
      number: n + 1,
      width,
      height,
      file,
    })),
    async readSlice(index: number): Promise<SliceImage> {
      if (!(index >= 0 && index < depth)) throw new RangeError(`${file} has no slice ${index}`);
      return { width, height, data: convertValues(displaySlice(volume, index), intensity) };
    },
  };
  const dataset = assembleDataset(path.resolve(file), [scan]);
  if (volume.warnings.length > 0) dataset.warnings = volume.warnings;
  return dataset;
}
