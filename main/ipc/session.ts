/**
 * One opened dataset with its workspace: finds scans by id and merges the masks to show for each slice
 * (a person's correction, else the base layer: the dataset's own ground truth or a model run the user
 * chose; see main/workspace/layers).
 */
import { ORGANS } from '../core/organs';
import { InputError } from '../core/errors';
import { allScans, type Dataset, type Scan, type SliceMasks } from '../core/types';
import { reviewFirst } from '../core/review-order';
import type {
  ApproveResult,
  DatasetSummary,
  HumanContours,
  LayerId as ApiLayerId,
  LayerSummary,
  MaskSource,
  PatientSummary,
  ReviewFirst,
  ScanMasks,
  ScanSummary,
  SliceMasksWire,
  SliceState,
} from '../../preload/api';
import { decodeMask, encodeMask, sameSliceMasks } from '../../preload/wire';
import path from 'node:path';
import type { DescribeSlice } from '../workspace/coco-document';
import { WorkspaceStore } from '../workspace/store';
import type { CocoReview, ImageReview } from './engine';
import { organChanges, runLayer, runOf } from '../workspace/layers';
import type { AuditEntry, LayerId, ScanDocument } from '../workspace/schema';

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

  /** The dataset's own (imported) masks of a slice, as wire masks. */
  private truthWire(sliceId: string): SliceMasksWire | undefined {
    const truth = this.dataset.masks.get(sliceId);
    return truth ? sliceMasksToWire(truth) : undefined;
  }

  /** Masks of one layer on one slice (undefined: the layer has nothing there). */
  layerWire(doc: ScanDocument, layer: LayerId, sliceId: string): SliceMasksWire | undefined {
    return layer === 'truth' ? this.truthWire(sliceId) : runOf(doc, layer)?.predictions[sliceId];
  }

  /** Masks of one layer of a scan by slice id, slices without pixels absent. */
  async layerMasks(scanId: string, layer: LayerId): Promise<Record<string, SliceMasksWire>> {
    const scan = this.scan(scanId);
    const doc = await this.store.load(scanId);
    if (layer !== 'truth' && !runOf(doc, layer)) throw new InputError(layer, `no such layer in ${scanId}`);
    const out: Record<string, SliceMasksWire> = {};
    for (const slice of scan.slices) {
      const wire = this.layerWire(doc, layer, slice.id);
      if (wire && hasPixels(wire)) out[slice.id] = wire;
    }
    return out;
  }

  private layerSummaries(scan: Scan, doc: ScanDocument): LayerSummary[] {
    const count = (layer: LayerId) =>
      scan.slices.filter((s) => {
        const w = this.layerWire(doc, layer, s.id);
        return w !== undefined && hasPixels(w);
      }).length;
    const out: LayerSummary[] = [];
    const truth = count('truth');
    if (truth > 0 || doc.base === 'truth') out.push({ id: 'truth', slices: truth });
    for (const run of doc.runs) {
      const id = runLayer(run.n) as ApiLayerId;
      out.push({ id, model: run.model, at: run.at, slices: count(id) });
    }
    return out;
  }

  /** Masks to show for each slice of a scan, with where each came from, and its layers. */
  async scanMasks(scanId: string): Promise<ScanMasks> {
    const scan = this.scan(scanId);
    const doc = await this.store.load(scanId);
    const masks: Record<string, SliceMasksWire> = {};
    const sources: Record<string, MaskSource> = {};
    const states: Record<string, SliceState> = {};
    const baseMasks: Record<string, SliceMasksWire> = {};
    for (const slice of scan.slices) {
      const edit = doc.edits[slice.id];
      const base = this.layerWire(doc, doc.base, slice.id);
      const [wire, source]: [SliceMasksWire | undefined, MaskSource] = edit
        ? [edit, 'workspace']
        : base
          ? [base, doc.base === 'truth' ? 'ground-truth' : 'prediction']
          : [undefined, 'none'];
      if (wire && hasPixels(wire)) masks[slice.id] = wire;
      if (edit && base && hasPixels(base)) baseMasks[slice.id] = base;
      sources[slice.id] = source;
      states[slice.id] = doc.states[slice.id] ?? 'auto';
    }
    return {
      scanId,
      masks,
      sources,
      states,
      approved: doc.approved,
      base: doc.base as ApiLayerId,
      layers: this.layerSummaries(scan, doc),
      shelved: doc.shelved.map((s) => ({
        at: s.at,
        base: s.base as ApiLayerId,
        replacedBy: s.replacedBy as ApiLayerId,
        slices: new Set([...Object.keys(s.edits), ...Object.keys(s.states)]).size,
      })),
      baseMasks,
      viewed: doc.viewed,
    };
  }

  /**
   * The slices of a model run to review first: of `layer`, else of the working contour's run, else of the
   * newest run (a run kept beside human contours is still worth checking where the model was unsure).
   */
  async reviewFirst(scanId: string, layer?: ApiLayerId): Promise<ReviewFirst> {
    const scan = this.scan(scanId);
    const doc = await this.store.load(scanId);
    const run = layer ? runOf(doc, layer) : (runOf(doc, doc.base) ?? doc.runs.at(-1));
    if (layer && !run) throw new InputError(layer, `no such model run in ${scanId}`);
    if (!run) return { scanId, layer: null, slices: [], uncertainty: {} };
    const uncertainty = run.uncertainty ?? {};
    const ids = reviewFirst(
      scan.slices.flatMap((s) => {
        const u = uncertainty[s.id];
        if (u === undefined) return [];
        const wire = run.predictions[s.id];
        return [{ id: s.id, uncertainty: u, hasOrgan: wire !== undefined && hasPixels(wire) }];
      }),
    );
    return {
      scanId,
      layer: runLayer(run.n) as ApiLayerId,
      slices: ids.map((sliceId) => ({ sliceId, uncertainty: uncertainty[sliceId]! })),
      uncertainty,
    };
  }

  /** Human contours of a scan that a new model run would replace as its working contour. */
  async humanContours(scanId: string): Promise<HumanContours> {
    const scan = this.scan(scanId);
    const doc = await this.store.load(scanId);
    const truth =
      doc.base === 'truth'
        ? scan.slices.filter((s) => !doc.edits[s.id] && hasPixels(this.truthWire(s.id) ?? {})).length
        : 0;
    const approved = Object.values(doc.states).filter((x) => x === 'approved').length;
    return { scanId, truth, edited: Object.keys(doc.edits).length, approved };
  }

  /** True when the masks equal those of the layer under the slice: saving them is no edit. */
  async sameAsBase(scanId: string, sliceId: string, masks: SliceMasksWire): Promise<boolean> {
    const doc = await this.store.load(scanId);
    return sameSliceMasks(masks, this.layerWire(doc, doc.base, sliceId));
  }

  /**
   * Approve (or withdraw approval of) a scan. Approval covers the slices a person was shown, unless
   * `includeUnviewed`; the audit trail records who, when, the layer and model under each slice, the slices
   * approved unseen, and what each edit changed compared with its layer.
   */
  async approve(
    scanId: string,
    opts: { approved: boolean; viewed: readonly string[]; includeUnviewed: boolean; user: string },
  ): Promise<ApproveResult> {
    const scan = this.scan(scanId);
    const all = scan.slices.map((s) => s.id);
    let result: ApproveResult = { approved: false, approvedSlices: 0, unviewed: 0 };
    await this.store.update(scanId, (doc) => {
      const at = new Date().toISOString();
      const known = new Set(all);
      doc.viewed = [...new Set([...doc.viewed, ...opts.viewed.filter((id) => known.has(id))])];
      if (!opts.approved) {
        const withdrawn = all.filter((id) => doc.states[id] === 'approved');
        for (const id of withdrawn) {
          if (doc.edits[id]) doc.states[id] = 'edited';
          else delete doc.states[id];
        }
        doc.approved = false;
        doc.audit = [...doc.audit, { at, user: opts.user, action: 'unapprove', slices: withdrawn }];
        return { at, action: 'unapprove' };
      }
      const seen = new Set(doc.viewed);
      const unviewed = all.filter((id) => !seen.has(id));
      const covered = opts.includeUnviewed ? all : all.filter((id) => seen.has(id));
      for (const id of covered) doc.states[id] = 'approved';
      doc.approved = all.every((id) => doc.states[id] === 'approved');
      doc.audit = [
        ...doc.audit,
        this.approvalEntry(doc, at, opts.user, covered, opts.includeUnviewed ? unviewed : []),
      ];
      result = {
        approved: doc.approved,
        approvedSlices: covered.length,
        unviewed: opts.includeUnviewed ? 0 : unviewed.length,
      };
      return { at, action: 'approve' };
    });
    return result;
  }

  /** Approve the slice on screen (so it was viewed), with its audit line. */
  async approveSlice(scanId: string, sliceId: string, user: string): Promise<SliceState> {
    this.sliceIndex(this.scan(scanId), sliceId);
    const doc = await this.store.update(scanId, (d) => {
      const at = new Date().toISOString();
      d.states[sliceId] = 'approved';
      if (!d.viewed.includes(sliceId)) d.viewed = [...d.viewed, sliceId];
      d.audit = [...d.audit, this.approvalEntry(d, at, user, [sliceId], [], 'approve-slice')];
      return { at, action: 'state', sliceId, state: 'approved' };
    });
    return doc.states[sliceId]!;
  }

  /** The audit line of an approval of `slices` (see approve). */
  private approvalEntry(
    doc: ScanDocument,
    at: string,
    user: string,
    slices: string[],
    unviewed: string[],
    action: 'approve' | 'approve-slice' = 'approve',
  ): AuditEntry {
    const layers: Record<string, number> = {};
    const changed: NonNullable<AuditEntry['changed']> = [];
    for (const id of slices) {
      const key = doc.edits[id] ? `${doc.base}+edits` : doc.base;
      layers[key] = (layers[key] ?? 0) + 1;
      const edit = doc.edits[id];
      if (edit) {
        const organs = organChanges(edit, this.layerWire(doc, doc.base, id));
        if (organs.length > 0) changed.push({ sliceId: id, layer: doc.base, organs });
      }
    }
    const run = runOf(doc, doc.base);
    return {
      at,
      user,
      action,
      slices,
      ...(unviewed.length > 0 ? { unviewed } : {}),
      layers,
      models: run ? [run.model] : [],
      changed,
    };
  }

  /** Where each slice's contour came from and its review state, with each scan's audit trail (export). */
  async exportReview(scanIds: string[], exportedBy: string): Promise<CocoReview> {
    const slices = new Map<string, ImageReview>();
    const audit: Record<string, unknown[]> = {};
    for (const scanId of scanIds) {
      const doc = await this.store.load(scanId);
      const m = await this.scanMasks(scanId);
      const viewed = new Set(doc.viewed);
      const run = runOf(doc, doc.base);
      for (const slice of this.scan(scanId).slices) {
        slices.set(slice.id, {
          scan_id: scanId,
          slice_id: slice.id,
          source: m.sources[slice.id] ?? 'none',
          layer: doc.base,
          ...(run ? { model: run.model } : {}),
          review_state: m.states[slice.id] ?? 'auto',
          viewed: viewed.has(slice.id),
        });
      }
      audit[scanId] = doc.audit;
    }
    return { slices, audit, exportedBy };
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
