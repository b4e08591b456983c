/**
 * One entry point for every input Tractus reads: detects the kind of a path and opens it.
 *   file  .json → COCO dataset (images beside it) · .nii/.nii.gz → NIfTI · .dcm or "DICM" → DICOM file
 *   folder: UW-Madison layout → DICOM files (recursively) → PNG slices → a single NIfTI → a COCO JSON
 *           → images/ + masks-colour/ pairs
 * When nothing fits, the error says what the folder holds and what would have been recognised.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { acquisitionConcerns, acquisitionWarning } from '../core/acquisition';
import { InputError } from '../core/errors';
import { allScans, type Dataset } from '../core/types';
import { openCocoDataset, openColourMaskPairs } from './coco-images';
import { attachDicomContours, type ClinicRoiNames } from './dicom-contours';
import { listDicomFiles, looksLikeDicomFile, openDicomFile, openDicomFiles } from './dicom';
import { openNifti } from './nifti';
import { isPngFileName, openPngFolder } from './png-folder';
import { looksLikeUwmgi, openUwmgi } from './uwmgi';

export interface OpenDatasetOptions {
  /** Mask CSV for UW-Madison folders (train.csv or the wide eval format). */
  csv?: string;
  /** A clinic's own structure names, recognised in RT structure sets and segmentations beside TG-263's. */
  roiNames?: ClinicRoiNames;
  /**
   * false: a UW-Madison folder's mask CSV is not read, nor a COCO file's annotations decoded, nor the
   * colour masks beside images read (segmenting needs no ground truth, and checking it decodes every
   * slice's masks). DICOM contours are still matched: unmatched, they would be reported as skipped files.
   */
  masks?: boolean;
}

const NIFTI_RE = /\.nii(\.gz)?$/i;

async function statOrExplain(p: string) {
  try {
    return await fs.stat(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(p, code === 'ENOENT' ? 'not found' : `cannot read (${code})`, { cause: e });
  }
}

async function openFile(file: string, opts: OpenDatasetOptions): Promise<Dataset> {
  const lower = file.toLowerCase();
  if (lower.endsWith('.json')) return openCocoDataset(file, opts);
  if (NIFTI_RE.test(lower)) return openNifti(file);
  if (await looksLikeDicomFile(file)) return openDicomFile(file);
  if (lower.endsWith('.png'))
    throw new InputError(file, 'a single PNG: open the folder of slices it belongs to');
  if (lower.endsWith('.csv')) {
    throw new InputError(
      file,
      'a mask CSV has no images: open the image folder and give this file as the CSV',
    );
  }
  throw new InputError(file, 'not a file Tractus reads (COCO .json, NIfTI .nii/.nii.gz or DICOM)');
}

/** What is in a folder, for the "nothing fits" message: "3 .txt files, 2 folders". */
async function describeFolder(dir: string): Promise<string> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  if (entries.length === 0) return 'it is empty';
  const counts = new Map<string, number>();
  for (const e of entries) {
    const kind = e.isDirectory() ? 'folder' : `${path.extname(e.name).toLowerCase() || 'extensionless'} file`;
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const parts = [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([kind, n]) => `${n} ${kind}${n === 1 ? '' : 's'}`);
  return `it holds ${parts.slice(0, 6).join(', ')}`;
}

async function openFolder(dir: string, opts: OpenDatasetOptions): Promise<Dataset> {
  if (await looksLikeUwmgi(dir)) return openUwmgi(dir, opts);
  const dicom = await listDicomFiles(dir);
  if (dicom.length > 0) return attachDicomContours(await openDicomFiles(dir, dicom), opts.roiNames);
  const names = (await fs.readdir(dir)).sort();
  if (names.some(isPngFileName)) return openPngFolder(dir);
  const nifti = names.filter((n) => NIFTI_RE.test(n));
  if (nifti.length === 1) return openNifti(path.join(dir, nifti[0]!));
  const json = names.filter((n) => n.toLowerCase().endsWith('.json') && !n.startsWith('.'));
  if (json.length === 1) return openCocoDataset(path.join(dir, json[0]!), opts);
  if (names.includes('images') && names.includes('masks-colour')) {
    return openColourMaskPairs(path.join(dir, 'images'), path.join(dir, 'masks-colour'), opts);
  }
  const several = nifti.length > 1 ? ` (${nifti.length} NIfTI files: open one of them)` : '';
  const severalJson = json.length > 1 ? ` (${json.length} JSON files: open the COCO one)` : '';
  throw new InputError(
    dir,
    `no images Tractus recognises: ${await describeFolder(dir)}${several}${severalJson}. Expected a UW-Madison ` +
      'folder (caseN/caseN_dayD/scans/slice_….png), DICOM files, PNG slices, a NIfTI volume or a COCO JSON',
  );
}

/** Open any supported input; `opts.csv` adds masks to a UW-Madison folder. */
export async function openDataset(input: string, opts: OpenDatasetOptions = {}): Promise<Dataset> {
  const target = path.resolve(input);
  const stat = await statOrExplain(target);
  const dataset = stat.isDirectory() ? await openFolder(target, opts) : await openFile(target, opts);
  const usedCsv = allScans(dataset).some((s) => s.source === 'uwmgi');
  // A CT or a brain image would be segmented all the same: say so wherever warnings are shown.
  for (const scan of allScans(dataset)) {
    const concerns = acquisitionConcerns(scan.acquisition);
    if (concerns.length > 0) {
      dataset.warnings = [
        ...(dataset.warnings ?? []),
        { where: scan.id, problem: acquisitionWarning(concerns) },
      ];
    }
  }
  if (opts.csv && !usedCsv) {
    dataset.warnings = [
      ...(dataset.warnings ?? []),
      { where: opts.csv, problem: 'ignored: a mask CSV applies to UW-Madison folders only' },
    ];
  }
  return dataset;
}

export interface ScanSummary {
  id: string;
  patientId: string;
  day: string;
  description?: string;
  source: string;
  slices: number;
  width: number;
  height: number;
  pixelSpacing: [number, number] | null;
  sliceThickness: number | null;
  intensity: string;
  /** slices of this scan that have an entry in dataset.masks */
  maskedSlices: number;
}

export interface DatasetSummary {
  root: string;
  patients: number;
  studies: number;
  scans: number;
  slices: number;
  maskedSlices: number;
  /** distinct slice sizes, e.g. "266×266" → number of scans */
  sizes: Record<string, number>;
  warnings: number;
  scanList: ScanSummary[];
}

export function describeDataset(dataset: Dataset): DatasetSummary {
  const scans = allScans(dataset);
  const sizes: Record<string, number> = {};
  const scanList = scans.map((s) => {
    const size = `${s.width}×${s.height}`;
    sizes[size] = (sizes[size] ?? 0) + 1;
    return {
      id: s.id,
      patientId: s.patientId,
      day: s.day,
      description: s.description,
      source: s.source,
      slices: s.slices.length,
      width: s.width,
      height: s.height,
      pixelSpacing: s.pixelSpacing,
      sliceThickness: s.sliceThickness,
      intensity: s.intensity,
      maskedSlices: s.slices.filter((sl) => dataset.masks.has(sl.id)).length,
    };
  });
  return {
    root: dataset.root,
    patients: dataset.patients.length,
    studies: dataset.patients.reduce((n, p) => n + p.studies.length, 0),
    scans: scans.length,
    slices: scanList.reduce((n, s) => n + s.slices, 0),
    maskedSlices: scanList.reduce((n, s) => n + s.maskedSlices, 0),
    sizes,
    warnings: dataset.warnings?.length ?? 0,
    scanList,
  };
}

/** The summary as a few plain lines for a terminal. */
export function formatDatasetSummary(summary: DatasetSummary): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const sizes = Object.entries(summary.sizes)
    .map(([size, n]) => `${size} (${plural(n, 'scan')})`)
    .join(', ');
  const lines = [
    `${summary.root}`,
    `${plural(summary.patients, 'patient')}, ${`${summary.studies} ${summary.studies === 1 ? 'study' : 'studies'}`}, ${plural(summary.scans, 'scan')}, ` +
      `${plural(summary.slices, 'slice')} (${summary.maskedSlices} with masks); sizes ${sizes}`,
  ];
  for (const s of summary.scanList) {
    const spacing = s.pixelSpacing ? `${s.pixelSpacing[0]}×${s.pixelSpacing[1]} mm` : 'spacing unknown';
    const thickness = s.sliceThickness !== null ? `, ${s.sliceThickness} mm slices` : '';
    const what = s.description ? ` "${s.description}"` : '';
    lines.push(
      `  ${s.id}${what}: ${s.source}, ${plural(s.slices, 'slice')} ${s.width}×${s.height} ${s.intensity}, ${spacing}${thickness}`,
    );
  }
  if (summary.warnings > 0) lines.push(`${plural(summary.warnings, 'warning')} (see dataset warnings)`);
  return lines.join('\n');
}
