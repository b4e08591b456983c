/**
 * The one in-memory model that every format reads into and writes from:
 * patient → study (one treatment day) → scan (an ordered stack of slices) and organ masks per slice.
 * Pure types: no Node, no DOM, so the renderer may share them.
 */
import type { AcquisitionInfo } from './acquisition';
import type { OrientationLetters } from './orientation';
import { ORGANS, type Organ } from './organs';

export type IntensityType = 'uint8' | 'uint16' | 'int16' | 'float32';

/** Pixels of one slice, row-major, `width * height` values. */
export type PixelArray = Uint8Array | Uint16Array | Int16Array | Float32Array;

export interface SliceImage {
  width: number;
  height: number;
  /** Stored values after any DICOM rescale slope/intercept (float32 when the rescale is not integral). */
  data: PixelArray;
}

/** A binary mask, row-major, one byte per pixel: 0 outside, 1 inside. */
export interface BinaryMask {
  width: number;
  height: number;
  data: Uint8Array;
}

/** A rectangle of a slice's pixels: x0 ≤ x < x1, y0 ≤ y < y1. */
export interface PixelBox {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/** The organs outlined on one slice; an organ that is absent has no entry. Organs may overlap. */
export type SliceMasks = Partial<Record<Organ, BinaryMask>>;

/** Whether any organ has a pixel on the slice (an entry may exist and be empty). */
export function sliceHasOrgan(masks: SliceMasks | undefined): boolean {
  return ORGANS.some((o) => masks?.[o]?.data.some((v) => v !== 0));
}

export type SourceKind = 'uwmgi' | 'png' | 'dicom' | 'nifti' | 'coco';

export interface SliceInfo {
  /** Stable id, `caseN_dayD_slice_NNNN` for UW-Madison data (the Kaggle id) and for other sources alike. */
  id: string;
  /** Slice number as the source counts it (UW-Madison `slice_NNNN`, 1-based). */
  number: number;
  width: number;
  height: number;
  /** File the slice came from, when it came from one file. */
  file?: string;
  /** The image id a COCO input gave this slice (kept so predictions exported as COCO refer to it). */
  cocoImageId?: number;
  /** Millimetres along the slice normal (DICOM ImagePositionPatient · normal), when the source says. */
  position?: number;
}

export interface ScanInfo {
  /** `caseN_dayD` for UW-Madison data; for DICOM the SeriesInstanceUID-derived id. Unique in a dataset. */
  id: string;
  patientId: string;
  studyId: string;
  /** The treatment day: `dayD` (UW-Madison) or the study date `YYYYMMDD` (DICOM). */
  day: string;
  description?: string;
  width: number;
  height: number;
  /** Millimetres between rows, between columns; null when the source does not say. */
  pixelSpacing: [row: number, column: number] | null;
  /** Millimetres; UW-Madison slices are 3 mm. */
  sliceThickness: number | null;
  /** Millimetres between neighbouring slice centres, when the source says (may differ from the thickness). */
  sliceSpacing?: number | null;
  intensity: IntensityType;
  source: SourceKind;
  /**
   * Patient directions at the image's edges as displayed (see core/orientation); absent when the source
   * gives no orientation (a DICOM without ImageOrientationPatient).
   */
  orientation?: OrientationLetters;
  /** Modality, body part, image type and plane, where the source records them (DICOM). */
  acquisition?: AcquisitionInfo;
  /** Ordered along the slice axis (UW-Madison: by slice number; DICOM: along the slice normal). */
  slices: SliceInfo[];
}

/** A scan whose pixels are read on demand, so only one scan at a time need be in memory. */
export interface Scan extends ScanInfo {
  readSlice(index: number): Promise<SliceImage>;
}

export interface Study {
  id: string;
  patientId: string;
  day: string;
  date?: string;
  scans: Scan[];
}

export interface Patient {
  id: string;
  studies: Study[];
}

export interface Dataset {
  /** Folder or file the dataset was opened from. */
  root: string;
  patients: Patient[];
  /** Ground-truth or saved masks by slice id, when the source carries them. */
  masks: Map<string, SliceMasks>;
  /** Problems that did not stop loading (a file skipped, a mask row without an image), to show the user. */
  warnings?: DatasetWarning[];
}

export interface DatasetWarning {
  /** File or record id, as in InputError. */
  where: string;
  problem: string;
}

export function allScans(dataset: Dataset): Scan[] {
  return dataset.patients.flatMap((p) => p.studies.flatMap((s) => s.scans));
}
