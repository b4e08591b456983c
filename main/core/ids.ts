/**
 * UW-Madison naming: `caseN_dayD_slice_NNNN` ids and the file paths that carry them.
 * Pure string functions shared by every format that must keep case, day and slice.
 */
export interface SliceKey {
  patientId: string; // caseN
  day: string; // dayD
  scanId: string; // caseN_dayD
  sliceNumber: number;
  sliceId: string; // caseN_dayD_slice_NNNN
}

export function sliceId(scanId: string, sliceNumber: number): string {
  return `${scanId}_slice_${String(sliceNumber).padStart(4, '0')}`;
}

const ID_RE = /^(case\d+)_(day\d+)_slice_(\d+)$/;
const PATH_SCAN_RE = /(case\d+)_(day\d+)/;
const PATH_SLICE_RE = /slice_(\d+)/;

/** Parse a Kaggle id `case123_day20_slice_0001`; undefined when it is not one. */
export function parseSliceId(id: string): SliceKey | undefined {
  const m = ID_RE.exec(id);
  if (!m) return undefined;
  const [, patientId, day, n] = m as unknown as [string, string, string, string];
  return { patientId, day, scanId: `${patientId}_${day}`, sliceNumber: Number(n), sliceId: id };
}

/** Find case, day and slice in a path such as `train/case123/case123_day20/scans/slice_0001_266_266_1.50_1.50.png`. */
export function parseSlicePath(path: string): SliceKey | undefined {
  const scan = PATH_SCAN_RE.exec(path);
  const base = path.split(/[\\/]/).pop() ?? path;
  const slice = PATH_SLICE_RE.exec(base);
  if (!scan || !slice) return undefined;
  const [, patientId, day] = scan as unknown as [string, string, string];
  const scanId = `${patientId}_${day}`;
  const sliceNumber = Number(slice[1]);
  return { patientId, day, scanId, sliceNumber, sliceId: sliceId(scanId, sliceNumber) };
}

export interface UwSliceFileName {
  sliceNumber: number;
  width: number;
  height: number;
  /** pixel spacing (mm) as written in the name: width direction, height direction */
  spacingX: number;
  spacingY: number;
}

const FILE_RE = /^slice_(\d+)_(\d+)_(\d+)_(\d+(?:\.\d+)?)_(\d+(?:\.\d+)?)\.png$/i;

/** Parse `slice_NNNN_W_H_pw_ph.png`; undefined when the name is not of that form. */
export function parseUwSliceFileName(name: string): UwSliceFileName | undefined {
  const m = FILE_RE.exec(name);
  if (!m) return undefined;
  return {
    sliceNumber: Number(m[1]),
    width: Number(m[2]),
    height: Number(m[3]),
    spacingX: Number(m[4]),
    spacingY: Number(m[5]),
  };
}
