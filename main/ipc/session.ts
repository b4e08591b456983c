/**
 * One opened dataset with its workspace: finds scans by id and merges the masks to show for each slice
 * (a person's correction, else the latest prediction, else the dataset's own ground truth).
 */
import { ORGANS } from '../core/organs';
import { InputError } from '../core/errors';
import { allScans, type Dataset, type Scan, type SliceMasks } from '../core/types';
import type {
  DatasetSummary,
  MaskSource,
  PatientSummary,
  ScanMasks,
  ScanSummary,
  SliceMasksWire,
  SliceState,
} from '../../preload/api';
import { decodeMask, encodeMask } from '../../preload/wire';
import path from 'node:path';
import type { DescribeSlice } from '../workspace/coco-document';
import { WorkspaceStore } from '../workspace/store';
import type { ScanDocument } from '../workspace/schema';

export function sliceMasksToWire(masks: SliceMasks): SliceMasksWire {
  const out: SliceMasksWire = {};
  for (const organ of ORGANS) {
    const m = masks[organ];
    if (m && m.data.some((v) => v !== 0)) out[organ] = encodeMask(m);
  }
  return out;
}

export function sliceMasksFromWire(wire: SliceMasksWire, where: string): SliceMasks {
  const out: SliceMasks = {};
  for (const organ of ORGANS) {
    const m = wire[organ];
    if (m) out[organ] = decodeMask(m, `${where} ${organ}`);
  }
  return out;
}

/**
 * The COCO image entry of each slice of a dataset: its file relative to the dataset root (the UW-Madison
 * `train/caseN/…/slice_….png` name for that layout; the slice id when it has no file of its own) and size.
 */
export function sliceDescriber(dataset: Dataset): DescribeSlice {
  const slices = new Map<string, { file?: string; width: number; height: number }>();
  for (const scan of allScans(dataset)) for (const s of scan.slices) slices.set(s.id, s);
  return (sliceId) => {
    const info = slices.get(sliceId);
    if (!info) return undefined;
    const fileName = info.file
      ? path.relative(dataset.root, path.resolve(dataset.root, info.file)).split(path.sep).join('/')
      : sliceId;
    return { fileName, width: info.width, height: info.height };
  };
}

/** Where a slice sits along the scan axis in mm: the source's position, else number × spacing. */
export function slicePositionMm(
  scan: Pick<Scan, 'sliceThickness' | 'sliceSpacing'>,
  slice: Pick<Scan['slices'][number], 'number' | 'position'>,
): number | null {
  if (slice.position !== undefined && Number.isFinite(slice.position)) return slice.position;
  const step = scan.sliceSpacing ?? scan.sliceThickness;
  return step !== null && step !== undefined && step > 0 ? slice.number * step : null;
}

function hasPixels(wire: SliceMasksWire): boolean {
  return ORGANS.some((o) => (wire[o]?.runs.length ?? 0) > 1);
}

export class DatasetSession {
  private readonly scans = new Map<string, Scan>();

  constructor(
    readonly dataset: Dataset,
    readonly store: WorkspaceStore,
    readonly demo: boolean,
  ) {
    for (const scan of allScans(dataset)) this.scans.set(scan.id, scan);
  }

  scan(scanId: string): Scan {
    const scan = this.scans.get(scanId);
    if (!scan) throw new InputError(scanId, 'no such scan in the open dataset');
    return scan;
  }

  allScans(): Scan[] {
    return [...this.scans.values()];
  }

  sliceIndex(scan: Scan, sliceId: string): number {
    const i = scan.slices.findIndex((s) => s.id === sliceId);
    if (i < 0) throw new InputError(sliceId, `no such slice in scan ${scan.id}`);
    return i;
  }

  /** Masks to show for each slice of a scan, with where each came from. */
  async scanMasks(scanId: string): Promise<ScanMasks> {
    const scan = this.scan(scanId);
    const doc = await this.store.load(scanId);
    const masks: Record<string, SliceMasksWire> = {};
    const sources: Record<string, MaskSource> = {};
    const states: Record<string, SliceState> = {};
    for (const slice of scan.slices) {
      const [wire, source] = this.pick(doc, slice.id);
      if (wire && hasPixels(wire)) masks[slice.id] = wire;
      sources[slice.id] = source;
      states[slice.id] = doc.states[slice.id] ?? 'auto';
    }
    return { scanId, masks, sources, states, approved: doc.approved };
  }

  private pick(doc: ScanDocument, sliceId: string): [SliceMasksWire | undefined, MaskSource] {
    const edit = doc.edits[sliceId];
    if (edit) return [edit, 'workspace'];
    const prediction = doc.predictions[sliceId];
    if (prediction) return [prediction, 'prediction'];
    const truth = this.dataset.masks.get(sliceId);
    if (truth) return [sliceMasksToWire(truth), 'ground-truth'];
    return [undefined, 'none'];
  }

  /** Decoded masks of every slice of the given scans (for export, volumes and training). */
  async decodedMasks(scanIds: string[]): Promise<Map<string, SliceMasks>> {
    const out = new Map<string, SliceMasks>();
    for (const scanId of scanIds) {
      const { masks } = await this.scanMasks(scanId);
      for (const [sliceId, wire] of Object.entries(masks))
        out.set(sliceId, sliceMasksFromWire(wire, sliceId));
    }
    return out;
  }

  async summary(): Promise<DatasetSummary> {
    const patients: PatientSummary[] = [];
    for (const patient of this.dataset.patients) {
      const days: PatientSummary['days'] = [];
      for (const study of patient.studies) {
        const scans: ScanSummary[] = [];
        for (const scan of study.scans) scans.push(await this.scanSummary(scan));
        days.push({ day: study.day, scans });
      }
      patients.push({ id: patient.id, days });
    }
    return {
      root: this.dataset.root,
      demo: this.demo,
      patients,
      workspace: this.store.dir,
      // Loading every scan above has surfaced any damaged workspace file.
      warnings: [...(this.dataset.warnings ?? []), ...this.store.problems()],
    };
  }

  async scanSummary(scan: Scan): Promise<ScanSummary> {
    const m = await this.scanMasks(scan.id);
    return {
      id: scan.id,
      patientId: scan.patientId,
      day: scan.day,
      ...(scan.description ? { description: scan.description } : {}),
      width: scan.width,
      height: scan.height,
      pixelSpacing: scan.pixelSpacing,
      sliceThickness: scan.sliceThickness,
      source: scan.source,
      ...(scan.orientation ? { orientation: scan.orientation } : {}),
      approved: m.approved,
      slices: scan.slices.map((s) => ({
        id: s.id,
        number: s.number,
        positionMm: slicePositionMm(scan, s),
        state: m.states[s.id] ?? 'auto',
        organs: ORGANS.filter((o) => (m.masks[s.id]?.[o]?.runs.length ?? 0) > 1),
      })),
    };
  }
}
