/**
 * `tractus export`, `tractus segment --export` and the app's export panel for the clinical formats: per scan
 *   <scan>.rtstruct.dcm   RT Structure Set (export/rtstruct)
 *   <scan>.seg.dcm        DICOM Segmentation, binary (export/dicom-seg)
 *   <scan>.seg.nii.gz     NIfTI label map with the source's affine (export/nifti-write)
 *   <scan>.mr/            an MR image series, for sources without DICOM (PNG, NIfTI), that the RTSTRUCT and
 *                         SEG reference, so the pair imports together
 * and `nnunet`: an nnU-Net v2 raw dataset (imagesTr/, labelsTr/, dataset.json) of every scan.
 *
 * Masks come from the caller: a segment run's predictions (AUTOMATIC), or a workspace's reviewed masks
 * (MANUAL); exportFromPath finds them for a path the user gives.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError } from '../core/errors';
import { ORGANS, isOrgan } from '../core/organs';
import { allScans, type Dataset, type Scan, type SliceMasks } from '../core/types';
import { openDataset } from '../imaging/open';
import { readJsonOrExplain, writeFileAtomic, writeJsonAtomic } from '../io/files';
import { sliceDescriber, DatasetSession } from '../ipc/session';
import { decodeCocoRle, type CocoRle } from '../masks/coco-rle';
import { buildSegmentation } from '../export/dicom-seg';
import { encodeDicom } from '../export/dicom-write';
import { writeMrSeries } from '../export/mr-series';
import { encodeNifti, imageVolume, labelVolume, voxelGrid } from '../export/nifti-write';
import { TG263_NAMES, type RoiNames } from '../export/organ-names';
import { buildStructureSet } from '../export/rtstruct';
import { scanFileStem, scanSource, type ImageReferences } from '../export/source';
import { WorkspaceStore } from '../workspace/store';

export const EXPORT_TARGETS = ['rtstruct', 'dicom-seg', 'nifti', 'nnunet'] as const;
export type ExportTarget = (typeof EXPORT_TARGETS)[number];

export function isExportTarget(name: string): name is ExportTarget {
  return (EXPORT_TARGETS as readonly string[]).includes(name);
}

/** `rtstruct,dicom-seg` → the targets, or an InputError naming the flag and the bad name. */
export function parseExportTargets(spec: string, where: string): ExportTarget[] {
  const targets = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = targets.find((t) => !isExportTarget(t));
  if (bad !== undefined || targets.length === 0) {
    throw new InputError(where, `"${bad ?? spec}" is not one of ${EXPORT_TARGETS.join(', ')}`);
  }
  return [...new Set(targets)] as ExportTarget[];
}

export interface ExportScansRequest {
  dataset: Dataset;
  /** Masks by slice id; a slice without an entry has no organ. */
  masks: Map<string, SliceMasks>;
  targets: ExportTarget[];
  out: string;
  /** Default: every scan of the dataset. */
  scans?: Scan[];
  names?: RoiNames;
  /** AUTOMATIC: model output not yet reviewed; MANUAL: reviewed contours. */
  algorithm: 'AUTOMATIC' | 'MANUAL';
  when?: Date;
  onProgress?: (done: number, total: number, scanId: string) => void;
}

export interface ExportSummary {
  out: string;
  targets: ExportTarget[];
  scans: number;
  /** Files written (folders for MR series), absolute. */
  files: string[];
  /** What was not written and why (a SEG with no organ present), one line each. */
  notes: string[];
}

async function exportOneScan(
  req: ExportScansRequest,
  scan: Scan,
  out: string,
  when: Date,
  names: RoiNames,
  files: string[],
  notes: string[],
  nnunet: string[],
): Promise<void> {
  const source = await scanSource(scan);
  const stem = scanFileStem(scan.id);
  const key = path.resolve(req.dataset.root);
  const wantsDicom = req.targets.includes('rtstruct') || req.targets.includes('dicom-seg');
  let refs: ImageReferences | undefined = source.dicom;
  if (wantsDicom && !refs) {
    const dir = path.join(out, `${stem}.mr`);
    // The series' UIDs are stable, so a re-export replaces the same files; stale extra slices must go.
    await fs.rm(dir, { recursive: true, force: true });
    refs = (await writeMrSeries(scan, source.geometry, dir, key, when)).references;
    files.push(dir);
  }
  const common = {
    scan,
    geometry: source.geometry,
    masks: req.masks,
    names,
    algorithm: req.algorithm,
    key,
    when,
  };
  if (req.targets.includes('rtstruct')) {
    const file = path.join(out, `${stem}.rtstruct.dcm`);
    await writeFileAtomic(file, encodeDicom(buildStructureSet({ ...common, refs: refs! }).dataset));
    files.push(file);
  }
  if (req.targets.includes('dicom-seg')) {
    const seg = buildSegmentation({ ...common, refs: refs! });
    const file = path.join(out, `${stem}.seg.dcm`);
    if (seg.dataset) {
      await writeFileAtomic(file, encodeDicom(seg.dataset));
      files.push(file);
    } else {
      await fs.rm(file, { force: true });
      notes.push(`${scan.id}: no organ on any slice, so no DICOM-SEG (it needs at least one frame)`);
    }
  }
  const grid =
    req.targets.includes('nifti') || req.targets.includes('nnunet') ? voxelGrid(scan, source) : undefined;
  if (grid && req.targets.includes('nifti')) {
    const file = path.join(out, `${stem}.seg.nii.gz`);
    await writeFileAtomic(
      file,
      encodeNifti(grid, labelVolume(scan, grid, req.masks), 'uint8', 'Tractus labels'),
    );
    files.push(file);
  }
  if (grid && req.targets.includes('nnunet')) {
    const image = path.join(out, 'imagesTr', `${stem}_0000.nii.gz`);
    const labels = path.join(out, 'labelsTr', `${stem}.nii.gz`);
    await writeFileAtomic(image, encodeNifti(grid, await imageVolume(scan, grid), scan.intensity, 'MR'));
    await writeFileAtomic(labels, encodeNifti(grid, labelVolume(scan, grid, req.masks), 'uint8', 'labels'));
    files.push(image, labels);
    nnunet.push(stem);
  }
}

export async function exportScans(req: ExportScansRequest): Promise<ExportSummary> {
  const out = path.resolve(req.out);
  const scans = req.scans ?? allScans(req.dataset);
  if (scans.length === 0) throw new InputError(req.dataset.root, 'no scans to export');
  const when = req.when ?? new Date();
  const names = req.names ?? TG263_NAMES;
  const files: string[] = [];
  const notes: string[] = [];
  const nnunet: string[] = [];
  const failed: InputError[] = [];
  for (const [i, scan] of scans.entries()) {
    req.onProgress?.(i, scans.length, scan.id);
    try {
      await exportOneScan(req, scan, out, when, names, files, notes, nnunet);
    } catch (e) {
      // A scan that cannot be exported (no geometry, multi-frame) is reported; the others are still written.
      if (!(e instanceof InputError)) throw e;
      failed.push(e);
      notes.push(`${scan.id}: not exported: ${e.message}`);
    }
  }
  if (failed.length === scans.length) throw failed[0]!;
  req.onProgress?.(scans.length, scans.length, '');
  if (req.targets.includes('nnunet')) {
    // nnU-Net v2's dataset.json: labels as name → value (the values Tractus uses everywhere).
    const file = path.join(out, 'dataset.json');
    await writeJsonAtomic(
      file,
      {
        channel_names: { '0': 'MRI' },
        labels: { background: 0, ...Object.fromEntries(ORGANS.map((o, k) => [o, k + 1])) },
        numTraining: nnunet.length,
        file_ending: '.nii.gz',
        name: 'Tractus',
        description: `GI organs exported by Tractus from ${req.dataset.root}`,
        overwrite_image_reader_writer: 'SimpleITKIO',
      },
      true,
    );
    files.push(file);
  }
  return { out, targets: req.targets, scans: scans.length, files, notes };
}

// ---------------------------------------------------------------------------------------------------------
// Finding the masks behind a path: a segment output folder or a workspace.
// ---------------------------------------------------------------------------------------------------------

/** Decode a segment run's per-slice predictions (COCO RLE by organ) into `masks`. */
export function addPredictedMasks(
  masks: Map<string, SliceMasks>,
  slices: ReadonlyArray<{ id: string; masks: Partial<Record<string, { coco: CocoRle }>> }>,
  where: string,
): void {
  for (const slice of slices) {
    const sliceMasks: SliceMasks = {};
    for (const [organ, m] of Object.entries(slice.masks ?? {})) {
      if (isOrgan(organ) && m) sliceMasks[organ] = decodeCocoRle(m.coco, `${where}: ${slice.id}`);
    }
    masks.set(slice.id, sliceMasks);
  }
}

/** A segment run's predictions, from its per-scan part files (they carry slice ids with the masks). */
async function segmentOutputMasks(dir: string): Promise<{ input: string; masks: Map<string, SliceMasks> }> {
  const summary = (await readJsonOrExplain(path.join(dir, 'summary.json'))) as { input?: unknown };
  if (typeof summary?.input !== 'string') {
    throw new InputError(path.join(dir, 'summary.json'), 'not a Tractus segment summary (no "input")');
  }
  const partsDir = path.join(dir, '.parts');
  const names = existsSync(partsDir) ? (await fs.readdir(partsDir)).filter((n) => n.endsWith('.json')) : [];
  if (names.length === 0) throw new InputError(partsDir, 'no per-scan results: run `tractus segment` again');
  const masks = new Map<string, SliceMasks>();
  for (const name of names.sort()) {
    const file = path.join(partsDir, name);
    const part = (await readJsonOrExplain(file)) as {
      slices?: Array<{ id: string; masks: Record<string, { coco: CocoRle }> }>;
    };
    addPredictedMasks(masks, part.slices ?? [], file);
  }
  return { input: summary.input, masks };
}

export interface ExportPathRequest {
  /** A `tractus segment` output folder, or a workspace folder (workspace.json). */
  input: string;
  targets: ExportTarget[];
  out: string;
  names?: RoiNames;
  /** The dataset a workspace belongs to, when it has moved since the workspace was made. */
  data?: string;
  onProgress?: ExportScansRequest['onProgress'];
}

export async function exportFromPath(req: ExportPathRequest): Promise<ExportSummary> {
  const dir = path.resolve(req.input);
  if (existsSync(path.join(dir, 'summary.json'))) {
    const { input, masks } = await segmentOutputMasks(dir);
    const dataset = await openDataset(req.data ?? input);
    return exportScans({ ...req, dataset, masks, algorithm: 'AUTOMATIC' });
  }
  if (existsSync(path.join(dir, 'workspace.json'))) {
    const info = (await readJsonOrExplain(path.join(dir, 'workspace.json'))) as { datasetRoot?: unknown };
    const root = req.data ?? (typeof info?.datasetRoot === 'string' ? info.datasetRoot : undefined);
    if (!root) throw new InputError(path.join(dir, 'workspace.json'), 'does not say which dataset it is for');
    const dataset = await openDataset(root);
    const store = await WorkspaceStore.open(dir, dataset.root, sliceDescriber(dataset));
    const session = new DatasetSession(dataset, store, false);
    const masks = await session.decodedMasks(session.allScans().map((s) => s.id));
    return exportScans({ ...req, dataset, masks, algorithm: 'MANUAL' });
  }
  throw new InputError(
    dir,
    'neither a `tractus segment` output (summary.json) nor a workspace (workspace.json)',
  );
}
