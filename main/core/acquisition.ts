/**
 * What a scan was acquired as (DICOM Modality, BodyPartExamined, ImageType, plane) and whether that is the
 * axial abdominal MR the model was made for. A CT slice or a brain perfusion image is segmented all the
 * same — the network cannot tell — so the user must be told. Pure: shared with the renderer.
 */

export type ScanPlane = 'axial' | 'coronal' | 'sagittal' | 'oblique';

export interface AcquisitionInfo {
  /** DICOM Modality (0008,0060), e.g. 'MR', 'CT'. */
  modality?: string;
  /** DICOM BodyPartExamined (0018,0015), e.g. 'ABDOMEN'. */
  bodyPart?: string;
  /** DICOM ImageType (0008,0008) values, e.g. ['ORIGINAL', 'PRIMARY', 'ASL']. */
  imageType?: string[];
  /** Plane of the stored slices, from ImageOrientationPatient. */
  plane?: ScanPlane;
}

/** Body parts that are (or contain) the abdomen: an MR-Linac abdominal series may say any of these. */
const ABDOMINAL = /ABDOM|PELVI|BOWEL|STOMACH|COLON|LIVER|PANCREA|KIDNEY|RENAL|TRUNK|WHOLE ?BODY|^BODY$/i;

/** ImageType values of images that are not anatomy (perfusion, diffusion maps, mosaics, scouts…). */
const NON_ANATOMICAL = new Set([
  'ASL',
  'PERFUSION',
  'PERF',
  'MOSAIC',
  'DIFFUSION',
  'ADC',
  'TRACEW',
  'FA',
  'LOCALIZER',
  'SCOUT',
  'MIP',
  'PROJECTION IMAGE',
]);

/** A slice normal (LPS) more than ~37° from every patient axis is oblique. */
const AXIS_SHARE = 0.8;

/** Plane of slices whose normal is `normal` (any length, LPS or RAS alike: only magnitudes matter). */
export function planeOfNormal(normal: [number, number, number]): ScanPlane | undefined {
  const norm = Math.hypot(...normal);
  if (!(norm > 0)) return undefined;
  const shares = normal.map((v) => Math.abs(v) / norm);
  const axis = shares.indexOf(Math.max(...shares));
  if (shares[axis]! < AXIS_SHARE) return 'oblique';
  return (['sagittal', 'coronal', 'axial'] as const)[axis];
}

/**
 * Why this is not the axial abdominal MR the model was made for, one short phrase per reason; empty when
 * nothing says so (absent tags are not held against a scan).
 */
export function acquisitionConcerns(info: AcquisitionInfo | undefined): string[] {
  if (!info) return [];
  const concerns: string[] = [];
  const modality = info.modality?.trim().toUpperCase();
  if (modality && modality !== 'MR') concerns.push(`modality ${modality}, not MR`);
  const bodyPart = info.bodyPart?.trim();
  if (bodyPart && !ABDOMINAL.test(bodyPart)) concerns.push(`body part ${bodyPart}, not abdomen`);
  const odd = (info.imageType ?? []).map((t) => t.trim().toUpperCase()).filter((t) => NON_ANATOMICAL.has(t));
  if (odd.length > 0) concerns.push(`image type ${odd.join('/')}, not an anatomical image`);
  if (info.plane && info.plane !== 'axial') concerns.push(`${info.plane} slices, not axial`);
  return concerns;
}

/** The one warning line for a scan with concerns: what it is, and what that means for its contours. */
export function acquisitionWarning(concerns: string[]): string {
  return (
    `not the axial abdominal MR the model was made for (${concerns.join('; ')}): ` +
    'its contours are not meaningful'
  );
}
