/**
 * Reading contours back: RT Structure Sets (closed planar contours in patient mm) and DICOM Segmentations
 * (binary frames) → organ masks on the slices of the scan they reference. So existing contours, Tractus's
 * own or a planning system's, can be reviewed, corrected and fine-tuned on.
 *
 * Organs are recognised by name (TG-263 Bowel_Large / Bowel_Small / Stomach and common synonyms) or, for a
 * SEG, by the segment's SNOMED CT type code. A contour goes on the slice whose SOP instance it references,
 * else on the slice whose plane it lies in. The contours of one ROI on a slice are combined by exclusive or,
 * as planning systems do, so an inner contour is a hole; Tractus's own keyhole contours are single outlines.
 */
import type { DataSet, Element } from 'dicom-parser';
import { InputError } from '../core/errors';
import { ORGANS, type Organ } from '../core/organs';
import {
  allScans,
  type BinaryMask,
  type Dataset,
  type DatasetWarning,
  type Scan,
  type SliceMasks,
} from '../core/types';
import { patientToPixel, sliceAt, type Vec3 } from '../export/geometry';
import { ANATOMIC_TYPES, TG263_NAMES } from '../export/organ-names';
import { scanSource, type ScanSource } from '../export/source';
import { readFileOrExplain } from '../io/files';
import { rasterizePolygons } from '../masks/polygons';
import { parseDataSet } from './dicom';

export interface RtContour {
  /** Flat x, y, z … in patient mm. */
  points: number[];
  geometricType: string;
  /** The image the contour was drawn on, when the file says. */
  sopInstanceUid?: string;
}

export interface RtRoi {
  number: number;
  name: string;
  colour?: [number, number, number];
  contours: RtContour[];
}

export interface RtStructureSet {
  file: string;
  label: string;
  frameOfReferenceUid?: string;
  /** Series whose images the contours are drawn on. */
  seriesInstanceUids: string[];
  rois: RtRoi[];
}

export interface SegFrame {
  segment: number;
  sopInstanceUid?: string;
  position?: Vec3;
  data: Uint8Array;
}

export interface DicomSegmentation {
  file: string;
  rows: number;
  columns: number;
  frameOfReferenceUid?: string;
  seriesInstanceUids: string[];
  segments: Array<{ number: number; label: string; typeCode?: string }>;
  frames: SegFrame[];
}

const RT_STRUCT_CLASS = '1.2.840.10008.5.1.4.1.1.481.3';
const SEG_CLASS = '1.2.840.10008.5.1.4.1.1.66.4';

function text(ds: DataSet, tag: string): string {
  return (ds.string(tag) ?? '').trim();
}

function items(ds: DataSet, tag: string): DataSet[] {
  const element = ds.elements[tag] as Element | undefined;
  return (element?.items ?? []).flatMap((item) => (item.dataSet ? [item.dataSet] : []));
}

function decimals(ds: DataSet, tag: string): number[] {
  const value = text(ds, tag);
  if (!value) return [];
  return value.split('\\').map(Number);
}

/** What kind of contour object a parsed file is, if any. */
export function contourObjectKind(ds: DataSet): 'rtstruct' | 'seg' | undefined {
  const sopClass = text(ds, 'x00080016') || text(ds, 'x00020002');
  const modality = text(ds, 'x00080060');
  if (sopClass === RT_STRUCT_CLASS || modality === 'RTSTRUCT') return 'rtstruct';
  if (sopClass === SEG_CLASS || modality === 'SEG') return 'seg';
  return undefined;
}

export function readRtStruct(bytes: Uint8Array, where: string): RtStructureSet {
  const ds = parseDataSet(bytes, where);
  if (contourObjectKind(ds) !== 'rtstruct') throw new InputError(where, 'not an RT Structure Set');
  const names = new Map<number, string>();
  for (const roi of items(ds, 'x30060020')) {
    names.set(Number(text(roi, 'x30060022')), text(roi, 'x30060026'));
  }
  const series = new Set<string>();
  let frameOfReferenceUid: string | undefined;
  for (const frame of items(ds, 'x30060010')) {
    frameOfReferenceUid ??= text(frame, 'x00200052') || undefined;
    for (const study of items(frame, 'x30060012')) {
      for (const s of items(study, 'x30060014')) {
        const uid = text(s, 'x0020000e');
        if (uid) series.add(uid);
      }
    }
  }
  const rois: RtRoi[] = items(ds, 'x30060039').map((roi) => {
    const number = Number(text(roi, 'x30060084'));
    const colour = decimals(roi, 'x3006002a');
    return {
      number,
      name: names.get(number) ?? `ROI ${number}`,
      ...(colour.length === 3 ? { colour: colour as [number, number, number] } : {}),
      contours: items(roi, 'x30060040').map((contour, k) => {
        const points = decimals(contour, 'x30060050');
        if (points.length % 3 !== 0 || !points.every(Number.isFinite)) {
          throw new InputError(where, `ROI ${number} contour ${k + 1}: ContourData is not x\\y\\z triples`);
        }
        const image = items(contour, 'x30060016')[0];
        const sop = image ? text(image, 'x00081155') : '';
        return {
          points,
          geometricType: text(contour, 'x30060042'),
          ...(sop ? { sopInstanceUid: sop } : {}),
        };
      }),
    };
  });
  return {
    file: where,
    label: text(ds, 'x30060002'),
    frameOfReferenceUid,
    seriesInstanceUids: [...series],
    rois,
  };
}

export function readDicomSeg(bytes: Uint8Array, where: string): DicomSegmentation {
  const ds = parseDataSet(bytes, where);
  if (contourObjectKind(ds) !== 'seg') throw new InputError(where, 'not a DICOM Segmentation');
  const rows = ds.uint16('x00280010') ?? 0;
  const columns = ds.uint16('x00280011') ?? 0;
  const frames = Math.max(1, Number(text(ds, 'x00280008')) || 1);
  const type = text(ds, 'x00620001');
  if (type !== 'BINARY' || ds.uint16('x00280100') !== 1) {
    throw new InputError(where, `a ${type || 'unknown'} segmentation; Tractus reads BINARY ones (1 bit)`);
  }
  const pixelData = ds.elements.x7fe00010;
  const pixels = rows * columns;
  if (!pixelData || pixelData.encapsulatedPixelData) {
    throw new InputError(where, 'no uncompressed pixel data in the segmentation');
  }
  if (pixelData.length * 8 < frames * pixels) {
    throw new InputError(where, `truncated pixel data (${frames} frames of ${columns}×${rows} need more)`);
  }
  const bits = new Uint8Array(
    ds.byteArray.buffer,
    ds.byteArray.byteOffset + pixelData.dataOffset,
    pixelData.length,
  );
  const shared = items(ds, 'x52009229')[0];
  const perFrame = items(ds, 'x52009230');
  const segments = items(ds, 'x00620002').map((s) => ({
    number: s.uint16('x00620004') ?? 0,
    label: text(s, 'x00620005'),
    typeCode: items(s, 'x0062000f')[0] ? text(items(s, 'x0062000f')[0]!, 'x00080100') : undefined,
  }));
  const series = items(ds, 'x00081115')
    .map((s) => text(s, 'x0020000e'))
    .filter(Boolean);
  const out: SegFrame[] = [];
  for (let f = 0; f < frames; f++) {
    const group = perFrame[f];
    const from = (tag: string) => (group && items(group, tag)[0]) ?? (shared && items(shared, tag)[0]);
    const segmentItem = from('x0062000a');
    const segment = segmentItem?.uint16('x0062000b') ?? (segments.length === 1 ? segments[0]!.number : 0);
    const position = from('x00209113') ? decimals(from('x00209113')!, 'x00200032') : [];
    const derivation = from('x00089124');
    const source = derivation ? items(derivation, 'x00082112')[0] : undefined;
    const sop = source ? text(source, 'x00081155') : '';
    const data = new Uint8Array(pixels);
    const base = f * pixels;
    for (let p = 0; p < pixels; p++) data[p] = (bits[(base + p) >> 3]! >> ((base + p) & 7)) & 1;
    out.push({
      segment,
      data,
      ...(sop ? { sopInstanceUid: sop } : {}),
      ...(position.length === 3 ? { position: position as Vec3 } : {}),
    });
  }
  return {
    file: where,
    rows,
    columns,
    frameOfReferenceUid: text(ds, 'x00200052') || undefined,
    seriesInstanceUids: series,
    segments,
    frames: out,
  };
}

const SYNONYMS: Array<[RegExp, Organ]> = [
  [/^(bowel_?large|large_?bowel|large[ _-]?intestine|colon|bowel_?bag_?large)$/i, 'large_bowel'],
  [/^(bowel_?small|small_?bowel|small[ _-]?intestine|smallbowel)$/i, 'small_bowel'],
  [/^(stomach|stomach_?wall)$/i, 'stomach'],
];

/** The organ a structure's name stands for (TG-263 names, Tractus's own, common synonyms, a clinic's map). */
export function organOfRoiName(
  name: string,
  clinicNames: Partial<Record<Organ, string>> = {},
): Organ | undefined {
  const trimmed = name.trim();
  for (const organ of ORGANS) {
    if (clinicNames[organ] === trimmed || TG263_NAMES[organ] === trimmed || organ === trimmed) return organ;
  }
  return SYNONYMS.find(([re]) => re.test(trimmed))?.[1];
}

/** A clinic's own structure names per organ (the app's "Structure names" setting, `--roi-names`). */
export type ClinicRoiNames = Partial<Record<Organ, string>>;

function organOfSegment(
  segment: { label: string; typeCode?: string },
  clinicNames: ClinicRoiNames,
): Organ | undefined {
  const byCode = ORGANS.find((o) => ANATOMIC_TYPES[o].value === segment.typeCode);
  return byCode ?? organOfRoiName(segment.label, clinicNames);
}

/** The slice a referenced SOP instance or a plane position stands for, or -1. */
function sliceOf(source: ScanSource, sop: string | undefined, position: Vec3 | undefined): number {
  if (sop && source.dicom) {
    const i = source.dicom.instances.findIndex((x) => x.sopInstanceUid === sop);
    if (i >= 0) return i;
  }
  return position ? sliceAt(source.geometry, position) : -1;
}

function emptyMask(scan: Scan): BinaryMask {
  return { width: scan.width, height: scan.height, data: new Uint8Array(scan.width * scan.height) };
}

export interface ImportedMasks {
  masks: Map<string, SliceMasks>;
  /** Organs found, and structures that are not one of the three organs (left out). */
  organs: Organ[];
  ignored: string[];
  /** Contours or frames that lie on no slice of the scan. */
  offScan: number;
}

/** Rasterise an RT structure set's organ ROIs on a scan's slices. */
export function structureSetMasks(
  rt: RtStructureSet,
  scan: Scan,
  source: ScanSource,
  clinicNames: ClinicRoiNames = {},
): ImportedMasks {
  const masks = new Map<string, SliceMasks>();
  const organs = new Set<Organ>();
  const ignored: string[] = [];
  let offScan = 0;
  for (const roi of rt.rois) {
    const organ = organOfRoiName(roi.name, clinicNames);
    if (!organ) {
      ignored.push(roi.name);
      continue;
    }
    for (const contour of roi.contours) {
      if (contour.points.length < 9 || contour.geometricType === 'POINT') continue;
      const first: Vec3 = [contour.points[0]!, contour.points[1]!, contour.points[2]!];
      const s = sliceOf(source, contour.sopInstanceUid, first);
      if (s < 0) {
        offScan++;
        continue;
      }
      // DICOM pixel coordinates put pixel centres on integers; COCO polygons put them at +0.5.
      const polygon: number[] = [];
      for (let i = 0; i < contour.points.length; i += 3) {
        const p: Vec3 = [contour.points[i]!, contour.points[i + 1]!, contour.points[i + 2]!];
        const [x, y] = patientToPixel(source.geometry, s, p);
        polygon.push(x + 0.5, y + 0.5);
      }
      const filled = rasterizePolygons([polygon], scan.width, scan.height, `${rt.file}: ${roi.name}`);
      const id = scan.slices[s]!.id;
      const sliceMasks = masks.get(id) ?? {};
      const mask = sliceMasks[organ] ?? emptyMask(scan);
      for (let p = 0; p < filled.length; p++) mask.data[p] ^= filled[p]!;
      sliceMasks[organ] = mask;
      masks.set(id, sliceMasks);
      organs.add(organ);
    }
  }
  return { masks, organs: ORGANS.filter((o) => organs.has(o)), ignored, offScan };
}

/** A segmentation's organ frames on a scan's slices. */
export function segmentationMasks(
  seg: DicomSegmentation,
  scan: Scan,
  source: ScanSource,
  clinicNames: ClinicRoiNames = {},
): ImportedMasks {
  if (seg.rows !== scan.height || seg.columns !== scan.width) {
    throw new InputError(
      seg.file,
      `frames are ${seg.columns}×${seg.rows} but scan ${scan.id} is ${scan.width}×${scan.height}`,
    );
  }
  const organOf = new Map(seg.segments.map((s) => [s.number, organOfSegment(s, clinicNames)]));
  const ignored = seg.segments.filter((s) => !organOf.get(s.number)).map((s) => s.label);
  const masks = new Map<string, SliceMasks>();
  const organs = new Set<Organ>();
  let offScan = 0;
  for (const frame of seg.frames) {
    const organ = organOf.get(frame.segment);
    if (!organ) continue;
    const s = sliceOf(source, frame.sopInstanceUid, frame.position);
    if (s < 0) {
      offScan++;
      continue;
    }
    const id = scan.slices[s]!.id;
    const sliceMasks = masks.get(id) ?? {};
    const mask = sliceMasks[organ] ?? emptyMask(scan);
    for (let p = 0; p < frame.data.length; p++) mask.data[p] |= frame.data[p]!;
    sliceMasks[organ] = mask;
    masks.set(id, sliceMasks);
    organs.add(organ);
  }
  return { masks, organs: ORGANS.filter((o) => organs.has(o)), ignored, offScan };
}

/**
 * RT Structure Sets and Segmentations found among a DICOM folder's skipped files become the masks of the
 * scans they reference (matched by series, else by frame of reference when one scan shares it). A file
 * whose images are not in the folder stays a warning that says so. Structures are recognised by their
 * TG-263 names, common synonyms, and the clinic's own names.
 */
export async function attachDicomContours(
  dataset: Dataset,
  clinicNames: ClinicRoiNames = {},
): Promise<Dataset> {
  const warnings = dataset.warnings ?? [];
  if (warnings.length === 0) return dataset;
  const scans = allScans(dataset).filter((s) => s.source === 'dicom');
  const sources = new Map<Scan, ScanSource | null>();
  const sourceOf = async (scan: Scan): Promise<ScanSource | null> => {
    if (!sources.has(scan)) {
      try {
        sources.set(scan, await scanSource(scan));
      } catch {
        sources.set(scan, null); // no usable geometry: it cannot carry contours
      }
    }
    return sources.get(scan)!;
  };
  const keep: DatasetWarning[] = [];
  for (const warning of warnings) {
    let bytes: Uint8Array;
    let kind: 'rtstruct' | 'seg' | undefined;
    try {
      bytes = await readFileOrExplain(warning.where);
      kind = contourObjectKind(parseDataSet(bytes, warning.where));
    } catch {
      kind = undefined;
    }
    if (!kind) {
      keep.push(warning);
      continue;
    }
    try {
      const object =
        kind === 'rtstruct' ? readRtStruct(bytes!, warning.where) : readDicomSeg(bytes!, warning.where);
      let target: { scan: Scan; source: ScanSource } | undefined;
      const byFrame: Array<{ scan: Scan; source: ScanSource }> = [];
      for (const scan of scans) {
        const source = await sourceOf(scan);
        if (!source?.dicom) continue;
        if (object.seriesInstanceUids.includes(source.dicom.seriesInstanceUid)) {
          target = { scan, source };
          break;
        }
        if (object.frameOfReferenceUid === source.dicom.frameOfReferenceUid) byFrame.push({ scan, source });
      }
      target ??= byFrame.length === 1 ? byFrame[0] : undefined;
      if (!target) {
        keep.push({
          where: warning.where,
          problem: `skipped: ${kind === 'rtstruct' ? 'RT structure set' : 'segmentation'} of a series that is not in this folder`,
        });
        continue;
      }
      const imported =
        kind === 'rtstruct'
          ? structureSetMasks(object as RtStructureSet, target.scan, target.source, clinicNames)
          : segmentationMasks(object as DicomSegmentation, target.scan, target.source, clinicNames);
      for (const [sliceId, masks] of imported.masks) {
        dataset.masks.set(sliceId, { ...dataset.masks.get(sliceId), ...masks });
      }
      if (imported.ignored.length > 0 || imported.offScan > 0) {
        const parts = [];
        if (imported.ignored.length > 0)
          parts.push(`structures that are not GI organs left out: ${imported.ignored.join(', ')}`);
        if (imported.offScan > 0)
          parts.push(`${imported.offScan} contours lie on no slice of ${target.scan.id}`);
        keep.push({
          where: warning.where,
          problem: `read ${imported.organs.join(', ') || 'no organ'}; ${parts.join('; ')}`,
        });
      }
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      keep.push({ where: e.where, problem: `skipped: ${e.problem}` });
    }
  }
  if (keep.length > 0) dataset.warnings = keep;
  else delete dataset.warnings;
  return dataset;
}
