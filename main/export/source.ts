/**
 * What an export needs to know of a scan's source beyond the dataset model: where every pixel lies in the
 * patient (ScanGeometry) and, for DICOM sources, the identifiers the new objects must reference (patient,
 * study, series, frame of reference, each slice's SOP instance). Read from the source files at export time,
 * so loading a dataset stays as light as it was.
 *
 *   DICOM  ImagePositionPatient / ImageOrientationPatient / PixelSpacing of each slice's file
 *   NIfTI  the file's affine, through the same display mapping the viewer uses (exact, no resampling)
 *   PNG    no geometry in the files: axial, shown radiologically (patient right on the image's left,
 *          anterior at the top), slices inferior → superior, the pixel spacing and slice thickness the
 *          dataset gives (UW-Madison file names, 3 mm) or 1 mm; marked `assumed`
 */
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { DataSet } from 'dicom-parser';
import { InputError } from '../core/errors';
import type { Scan } from '../core/types';
import { readFileOrExplain } from '../io/files';
import { parseDataSet } from '../imaging/dicom';
import { displayMapping, parseNiftiHeader, type DisplayMapping } from '../imaging/nifti';
import { norm, scale, sub, type ScanGeometry, type Vec3 } from './geometry';

/** The DICOM images an exported object refers to, and the patient and study it belongs to. */
export interface ImageReferences {
  patientName: string;
  patientId: string;
  patientBirthDate: string;
  patientSex: string;
  studyInstanceUid: string;
  studyDate: string;
  studyTime: string;
  studyId: string;
  accessionNumber: string;
  referringPhysicianName: string;
  studyDescription?: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  /** One per slice, in scan order. */
  instances: Array<{ sopClassUid: string; sopInstanceUid: string }>;
}

/** A NIfTI source's own voxel grid, so a label map can be written with the source's shape and affine. */
export interface NiftiGrid {
  dims: [number, number, number];
  /** voxel (i, j, k, 1) → RAS+ mm, rows x, y, z */
  affine: number[][];
  mapping: DisplayMapping;
}

export interface ScanSource {
  geometry: ScanGeometry;
  /** Present for DICOM sources: their images are referenced; other sources get an MR series written. */
  dicom?: ImageReferences;
  nifti?: NiftiGrid;
}

function text(ds: DataSet, tag: string): string {
  return (ds.string(tag) ?? '').trim();
}

function numbers(ds: DataSet, tag: string, count: number, where: string, name: string): number[] {
  const parts = text(ds, tag)
    .split('\\')
    .map((v) => Number(v));
  if (parts.length !== count || !parts.every(Number.isFinite)) {
    throw new InputError(where, `no usable ${name}: contours cannot be placed in the patient`);
  }
  return parts;
}

async function dicomSource(scan: Scan): Promise<ScanSource> {
  const positions: Vec3[] = [];
  const instances: ImageReferences['instances'] = [];
  let first: DataSet | undefined;
  let orientation: [Vec3, Vec3] | undefined;
  let spacing: [number, number] | undefined;
  const seen = new Set<string>();
  for (const slice of scan.slices) {
    const where = slice.file ?? slice.id;
    if (!slice.file || seen.has(slice.file)) {
      throw new InputError(where, 'multi-frame DICOM sources cannot be exported as RTSTRUCT/SEG yet');
    }
    seen.add(slice.file);
    const ds = parseDataSet(await readFileOrExplain(slice.file), where);
    first ??= ds;
    positions.push(numbers(ds, 'x00200032', 3, where, 'ImagePositionPatient') as Vec3);
    const o = numbers(ds, 'x00200037', 6, where, 'ImageOrientationPatient');
    orientation ??= [o.slice(0, 3) as Vec3, o.slice(3, 6) as Vec3];
    spacing ??= numbers(ds, 'x00280030', 2, where, 'PixelSpacing') as [number, number];
    const sopInstanceUid = text(ds, 'x00080018');
    if (!sopInstanceUid) throw new InputError(where, 'no SOPInstanceUID: the slice cannot be referenced');
    instances.push({ sopClassUid: text(ds, 'x00080016') || text(ds, 'x00020002'), sopInstanceUid });
  }
  const ds = first!;
  const where = scan.slices[0]!.file!;
  const studyInstanceUid = text(ds, 'x0020000d');
  const seriesInstanceUid = text(ds, 'x0020000e');
  if (!studyInstanceUid || !seriesInstanceUid) {
    throw new InputError(where, 'no StudyInstanceUID or SeriesInstanceUID: the series cannot be referenced');
  }
  const frameOfReferenceUid = text(ds, 'x00200052');
  if (!frameOfReferenceUid) {
    throw new InputError(where, 'no FrameOfReferenceUID: contours could not be registered to the images');
  }
  return {
    geometry: {
      rows: scan.height,
      columns: scan.width,
      orientation: orientation!,
      positions,
      pixelSpacing: spacing!,
      sliceThickness: Number(text(ds, 'x00180050')) || scan.sliceThickness || scan.sliceSpacing || 1,
      assumed: false,
    },
    dicom: {
      patientName: text(ds, 'x00100010'),
      patientId: text(ds, 'x00100020'),
      patientBirthDate: text(ds, 'x00100030'),
      patientSex: text(ds, 'x00100040'),
      studyInstanceUid,
      studyDate: text(ds, 'x00080020'),
      studyTime: text(ds, 'x00080030'),
      studyId: text(ds, 'x00200010'),
      accessionNumber: text(ds, 'x00080050'),
      referringPhysicianName: text(ds, 'x00080090'),
      studyDescription: text(ds, 'x00081030') || undefined,
      seriesInstanceUid,
      frameOfReferenceUid,
      instances,
    },
  };
}

async function niftiSource(scan: Scan): Promise<ScanSource> {
  const file = scan.slices[0]?.file;
  if (!file) throw new InputError(scan.id, 'NIfTI scan without its file');
  let bytes: Uint8Array = await readFileOrExplain(file);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = gunzipSync(bytes);
  const header = parseNiftiHeader(bytes, file);
  const mapping = displayMapping(header.affine, file);
  const { dims, affine } = header;
  const extent = (axis: number) => dims[axis]!;
  /** RAS world position of display pixel (c, r) on display slice s, as LPS. */
  const lps = (c: number, r: number, s: number): Vec3 => {
    const v = [0, 0, 0];
    v[mapping.column.axis] = mapping.column.reversed ? extent(mapping.column.axis) - 1 - c : c;
    v[mapping.row.axis] = mapping.row.reversed ? extent(mapping.row.axis) - 1 - r : r;
    v[mapping.slice.axis] = mapping.slice.reversed ? extent(mapping.slice.axis) - 1 - s : s;
    const ras = [0, 1, 2].map(
      (i) => affine[i]![0]! * v[0]! + affine[i]![1]! * v[1]! + affine[i]![2]! * v[2]! + affine[i]![3]!,
    );
    return [-ras[0]!, -ras[1]!, ras[2]!];
  };
  const origin = lps(0, 0, 0);
  const alongRow = sub(lps(1, 0, 0), origin);
  const alongColumn = sub(lps(0, 1, 0), origin);
  const depth = scan.slices.length;
  return {
    geometry: {
      rows: scan.height,
      columns: scan.width,
      orientation: [scale(alongRow, 1 / norm(alongRow)), scale(alongColumn, 1 / norm(alongColumn))],
      positions: Array.from({ length: depth }, (_, s) => lps(0, 0, s)),
      pixelSpacing: [norm(alongColumn), norm(alongRow)],
      sliceThickness: mapping.spacing.slice,
      assumed: header.affineSource === 'pixdim',
    },
    nifti: { dims: [...dims], affine: affine.map((row) => [...row]), mapping },
  };
}

/** Axial, radiological display, slices inferior → superior: the PNG convention the viewer assumes too. */
function assumedSource(scan: Scan): ScanSource {
  const [rowSpacing, columnSpacing] = scan.pixelSpacing ?? [1, 1];
  const thickness = scan.sliceThickness ?? scan.sliceSpacing ?? 1;
  const step = scan.sliceSpacing ?? thickness;
  return {
    geometry: {
      rows: scan.height,
      columns: scan.width,
      orientation: [
        [1, 0, 0],
        [0, 1, 0],
      ],
      positions: scan.slices.map((_, i) => [0, 0, i * step] as Vec3),
      pixelSpacing: [rowSpacing, columnSpacing],
      sliceThickness: thickness,
      assumed: true,
    },
  };
}

export async function scanSource(scan: Scan): Promise<ScanSource> {
  if (scan.slices.length === 0) throw new InputError(scan.id, 'the scan has no slices');
  if (scan.source === 'dicom') return dicomSource(scan);
  if (scan.source === 'nifti') return niftiSource(scan);
  return assumedSource(scan);
}

/** A file-name-safe form of a scan id, for `<scan>.rtstruct.dcm` and friends. */
export function scanFileStem(scanId: string): string {
  return (
    path
      .basename(scanId)
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^\.+/, '') || 'scan'
  );
}
