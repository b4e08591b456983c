/**
 * `tractus segment` and the app's "segment" action: run a model over every scan of an input and write
 *   predictions.json   COCO results (image_id, category_id, compressed RLE at native size, score)
 *   images.coco.json   the image list those ids refer to (not written for COCO input: its ids are kept)
 *   submission.csv     Kaggle `id,class,predicted`, one row per slice and organ
 *   summary.json       per scan: size, spacing, organ volumes (mL), seconds, backend, ok/failed + reason,
 *                      per-slice uncertainty and the slices to review first
 * One scan is in memory at a time. Each finished scan is saved as `.parts/<n>.json`, so an interrupted run
 * resumes where it stopped (unless `force`); the final files are merged from the parts and written
 * atomically. A scan that fails (bad file) is reported and skipped; the run fails only when all fail.
 * The network may run in worker threads (`workers`), each scan's batches spread over them; reading,
 * pre/post-processing and writing stay here, in slice order, so the files are the same as with one.
 */
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { acquisitionConcerns, type AcquisitionInfo } from '../core/acquisition';
import { InputError } from '../core/errors';
import { parseSliceId } from '../core/ids';
import { reviewFirst } from '../core/review-order';
import { ORGANS, categoryIdOf, type Organ } from '../core/organs';
import { allScans, type Dataset, type Scan, type SliceInfo, type SliceMasks } from '../core/types';
import { formatWarnings } from '../core/warnings';
import { ensureOutputFolder, writeFileAtomic, writeJsonAtomic } from '../io/files';
import { openDataset } from '../imaging/open';
import type { CocoRle } from '../masks/coco-rle';
import { buildCocoDataset, type CocoResult } from '../masks/coco';
import { formatKaggleCsv, type KaggleMaskRow } from '../masks/kaggle-csv';
import { encodeMaskRles } from '../masks/mask-rles';
import { initBackend, type InferenceBackend } from '../model/backend/select';
import { segmentScan, type BatchPredictor, type SliceSegmentation } from '../model/infer';
import { chooseOnnx, tfjsPreference, type InferencePreference } from '../model/onnx/choose';
import { ONNX_FILE } from '../model/onnx/names';
import {
  defaultInferenceWorkers,
  scanRunOptions,
  startInferencePool,
  type InferencePool,
} from '../model/parallel/infer-pool';
import { DEFAULT_MODEL_DIR, loadModel, type LoadedModel } from '../model/model-io';
import type { RoiNames } from '../export/organ-names';
import { addPredictedMasks, exportScans, type ExportTarget } from './export';

export interface SegmentRequest {
  /** Anything the imaging loaders open: UW-Madison root/case/case-day folder, PNG or DICOM folder, NIfTI, COCO JSON. */
  input: string;
  out: string;
  modelDir?: string;
  /** auto: ONNX Runtime when the model has a self-checked model.onnx, else the best tfjs backend. */
  backend?: InferencePreference;
  /** Recompute scans that already have a part file. */
  force?: boolean;
  /**
   * Slices per forward pass; default 1 on ONNX Runtime workers, else 4 (see parallel/infer-pool
   * scanRunOptions).
   */
  batch?: number;
  /**
   * Threads running the network. With more than one, the batches of each scan are spread over worker
   * threads; the output is the same as with 1. Default: defaultInferenceWorkers for the backend, but 1
   * for inputs under AUTO_WORKERS_MIN_SLICES slices, where starting the workers costs more than it saves.
   */
  workers?: number;
  /** Tests only: a stand-in inference worker module (see parallel/infer-pool). */
  inferWorkerUrl?: URL;
  /** Cancels between batches; running workers are terminated. Rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Slices done within the current scan. */
  onProgress?: (p: {
    scanIndex: number;
    scanCount: number;
    scanId: string;
    done: number;
    total: number;
  }) => void;
  onScanDone?: (s: ScanSummary) => void;
  log?: (msg: string) => void;
  /** Also write clinical formats beside the outputs (`<scan>.rtstruct.dcm`, `.seg.dcm`, `.seg.nii.gz`). */
  export?: ExportTarget[];
  /** ROI names for the RTSTRUCT/SEG export; default TG-263. */
  roiNames?: RoiNames;
}

export interface ScanSummary {
  id: string;
  slices: number;
  width: number;
  height: number;
  /** Millimetres [row, column]; null when the source does not say. */
  pixelSpacing: [number, number] | null;
  sliceThickness: number | null;
  /** Organ volume in mL = voxels × pixel spacing² × slice thickness / 1000; null without spacing. */
  volumesMl: Record<Organ, number | null> | null;
  voxels: Record<Organ, number> | null;
  seconds: number;
  backend: string;
  status: 'ok' | 'failed';
  reason?: string;
  /**
   * What the source says the scan is (DICOM modality, body part, image type, plane) and why it is not the
   * axial abdominal MR the model was made for (`concerns`, empty when nothing says so).
   */
  acquisition: AcquisitionInfo & { concerns: string[] };
  /** True when the result came from an earlier run's part file. */
  resumed?: boolean;
  /** Model uncertainty of each slice by slice id, 0 (crisp) … 1 (see model/uncertainty); ok scans only. */
  uncertainty?: Record<string, number>;
  /** Up to 10 slice ids, most uncertain first (see core/review-order); ok scans only. */
  reviewFirst?: string[];
}

export interface SegmentSummary {
  input: string;
  model: { dir: string; name: string; placeholder: boolean; createdAt: string };
  backend: string;
  /** Threads that ran the network (1: the main thread only). */
  workers: number;
  scans: ScanSummary[];
  ok: number;
  failed: number;
  warnings: Array<{ where: string; problem: string }>;
  /** Output files written, relative to the output folder. */
  files: string[];
}

/**
 * Two workers take ~1.5–2 s to load tfjs and the model, and save ~0.12 s per slice with the default
 * U-Net on wasm (263 → 144 ms/slice by CPU time on 2 cores; test/bench/segment.bench.ts): below ~15–20
 * slices one thread finishes first. On ONNX Runtime they take ~1–2 s to start and save a few ms per slice
 * of the shipped model (test/bench/onnx.bench.ts): they pay over a whole scan, not on a handful of slices.
 */
export const AUTO_WORKERS_MIN_SLICES = 24;

/** One scan's results, as stored in `.parts/` and merged at the end. */
interface ScanPart {
  modelKey: string;
  summary: ScanSummary;
  slices: Array<{
    imageId: number;
    id: string;
    masks: Partial<Record<Organ, { coco: CocoRle; kaggle: string; score: number }>>;
    uncertainty: number;
  }>;
}

interface ImageRef {
  imageId: number;
  fileName: string;
}

// ---------------------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------------------

const UW_RELATIVE = /(?:^|\/)((?:train\/|test\/)?case\d+\/case\d+_day\d+\/scans\/[^/]+)$/;

/**
 * COCO file_name of a slice: for UW-Madison files the dataset-relative `[train/]caseN/caseN_dayD/scans/…`
 * path whichever folder was opened, else the path relative to the input folder.
 */
function fileNameOf(slice: SliceInfo, root: string): string {
  if (!slice.file) return slice.id;
  const posix = path.resolve(slice.file).split(path.sep).join('/');
  const uw = UW_RELATIVE.exec(posix);
  if (uw) return uw[1]!;
  const rel = path.relative(root, slice.file).split(path.sep).join('/');
  return rel.startsWith('..') || path.isAbsolute(rel) ? posix : rel;
}

/** Image ids and file names for every slice, fixed before any scan runs so resumed runs agree. */
function assignImages(dataset: Dataset, scans: Scan[]): Map<Scan, ImageRef[]> {
  const root = dataset.root;
  const rootDir = existsSync(root) && !/\.(json|nii|nii\.gz|dcm)$/i.test(root) ? root : path.dirname(root);
  const refs = new Map<Scan, ImageRef[]>();
  // A COCO input's slices keep their ids; other slices are numbered after the largest of those.
  const given = scans.flatMap((scan) =>
    scan.slices.flatMap((s) => (s.cocoImageId === undefined ? [] : [s.cocoImageId])),
  );
  let next = Math.max(0, ...given) + 1;
  for (const scan of scans) {
    refs.set(
      scan,
      scan.slices.map((slice) => ({
        imageId: slice.cocoImageId ?? next++,
        fileName: fileNameOf(slice, rootDir),
      })),
    );
  }
  return refs;
}

function partFile(out: string, index: number, scanId: string): string {
  const safe = scanId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80);
  return path.join(out, '.parts', `${String(index).padStart(5, '0')}-${safe}.json`);
}

async function readPart(file: string, modelKey: string): Promise<ScanPart | undefined> {
  try {
    const part = JSON.parse(await fs.readFile(file, 'utf8')) as ScanPart;
    // parts written before per-slice uncertainty existed are recomputed
    const current = part.slices?.every((s) => typeof s.uncertainty === 'number');
    return part.modelKey === modelKey && part.summary?.status === 'ok' && current ? part : undefined;
  } catch {
    return undefined; // absent or damaged: recompute
  }
}

function modelKeyOf(loaded: LoadedModel): string {
  return createHash('sha256')
    .update(JSON.stringify([path.resolve(loaded.dir), loaded.card.name, loaded.card.createdAt]))
    .digest('hex')
    .slice(0, 16);
}

function volumes(scan: Scan, voxels: Record<Organ, number>): Record<Organ, number | null> | null {
  const thickness = scan.sliceThickness ?? scan.sliceSpacing ?? null;
  if (!scan.pixelSpacing || thickness === null) return null;
  const voxelMl = (scan.pixelSpacing[0] * scan.pixelSpacing[1] * thickness) / 1000;
  return Object.fromEntries(ORGANS.map((o) => [o, voxels[o] * voxelMl])) as Record<Organ, number>;
}

async function runScan(
  scan: Scan,
  refs: ImageRef[],
  loaded: LoadedModel,
  backend: string,
  modelKey: string,
  req: SegmentRequest,
  progress: (done: number, total: number) => void,
  pool: InferencePool | undefined,
  local: BatchPredictor | undefined,
): Promise<ScanPart> {
  const voxels = Object.fromEntries(ORGANS.map((o) => [o, 0])) as Record<Organ, number>;
  const slices: ScanPart['slices'] = [];
  // Encoded as the masks become final, mostly while the workers run the next slices.
  const encode = (done: readonly SliceSegmentation[]) => {
    for (const s of done) {
      const masks: ScanPart['slices'][number]['masks'] = {};
      for (const organ of ORGANS) {
        const mask = s.masks[organ];
        if (!mask) continue;
        const { kaggle, coco, area } = encodeMaskRles(mask);
        voxels[organ] += area;
        masks[organ] = { coco, kaggle, score: s.scores[organ]! };
      }
      slices.push({ imageId: refs[s.index]!.imageId, id: s.id, masks, uncertainty: s.uncertainty });
    }
  };
  const result = await segmentScan(scan, loaded, {
    ...scanRunOptions(pool, local),
    ...(req.batch === undefined ? {} : { batch: req.batch }),
    signal: req.signal,
    onProgress: progress,
    onFinalSlices: encode,
    releaseMasks: true,
  });
  return {
    modelKey,
    slices,
    summary: {
      ...scanHeader(scan),
      volumesMl: volumes(scan, voxels),
      voxels,
      seconds: result.seconds,
      backend,
      status: 'ok',
      uncertainty: Object.fromEntries(slices.map((s) => [s.id, s.uncertainty])),
      reviewFirst: reviewFirst(
        slices.map((s) => ({
          id: s.id,
          uncertainty: s.uncertainty,
          hasOrgan: Object.keys(s.masks).length > 0,
        })),
      ),
    },
  };
}

/** What a scan summary says of the scan itself, whether its segmentation worked or not. */
function scanHeader(
  scan: Scan,
): Pick<
  ScanSummary,
  'id' | 'slices' | 'width' | 'height' | 'pixelSpacing' | 'sliceThickness' | 'acquisition'
> {
  return {
    id: scan.id,
    slices: scan.slices.length,
    width: scan.width,
    height: scan.height,
    pixelSpacing: scan.pixelSpacing,
    sliceThickness: scan.sliceThickness,
    acquisition: { ...scan.acquisition, concerns: acquisitionConcerns(scan.acquisition) },
  };
}

function failedSummary(scan: Scan, backend: string, e: unknown, seconds: number): ScanSummary {
  return {
    ...scanHeader(scan),
    volumesMl: null,
    voxels: null,
    seconds,
    backend,
    status: 'failed',
    reason: e instanceof Error ? e.message : String(e),
  };
}

export async function segmentInput(req: SegmentRequest): Promise<SegmentSummary> {
  const log = req.log ?? (() => {});
  const backendInfo = await initBackend(tfjsPreference(req.backend), log);
  const loaded = await loadModel(req.modelDir ?? DEFAULT_MODEL_DIR);
  let pool: InferencePool | undefined;
  /** Workers started before the ONNX self-check has passed (see below); taken by ensurePool. */
  let starting: Promise<InferencePool> | undefined;
  const closeStarting = async () => {
    const s = starting;
    starting = undefined;
    await s?.then((p) => p.close()).catch(() => undefined);
  };
  // Closing the workers is what stops the scan: a tfjs-wasm pass is cut short, an ONNX Runtime one (native
  // code, which a worker must not be terminated inside) finishes first (PoolOptions.finishRunningOnClose).
  const cancel = () => {
    void pool?.close();
    void closeStarting();
  };
  req.signal?.addEventListener('abort', cancel, { once: true });
  try {
    if (loaded.card.placeholder) log(`model ${loaded.card.name} is a PLACEHOLDER: it is not trained`);
    // A UW-Madison folder's ground truth (train.csv) plays no part in segmenting: it is not read.
    const dataset = await openDataset(req.input, { masks: false });
    // skipped files and non-abdominal-MR scans, once each and grouped by reason, before the long run
    for (const line of formatWarnings(dataset.warnings ?? [])) log(`warning: ${line}`);
    const scans = allScans(dataset);
    if (scans.length === 0) throw new InputError(req.input, 'no scans found');
    const totalSlices = scans.reduce((n, s) => n + s.slices.length, 0);
    const workersFor = (b: InferenceBackend) =>
      req.workers ?? (totalSlices < AUTO_WORKERS_MIN_SLICES ? 1 : defaultInferenceWorkers(b));
    const startPool = (b: InferenceBackend, n: number) =>
      startInferencePool({ modelDir: loaded.dir, backend: b, workers: n, workerUrl: req.inferWorkerUrl });
    // The workers take a while to start, about as long as the ONNX self-check on this thread: when ONNX
    // Runtime is likely to run (a model.onnx and no tfjs backend asked for), they start beside it, and
    // are closed unused if the check fails.
    if (req.workers !== undefined && !(Number.isInteger(req.workers) && req.workers >= 1)) {
      throw new InputError('workers', `expected a whole number ≥ 1, got ${req.workers}`);
    }
    const onnxLikely =
      (req.backend === undefined || req.backend === 'auto' || req.backend === 'onnx') &&
      existsSync(path.join(loaded.dir, ONNX_FILE));
    if (onnxLikely && workersFor('onnxruntime') > 1) {
      starting = startPool('onnxruntime', workersFor('onnxruntime'));
      starting.catch(() => undefined); // handled where it is awaited
    }
    // Never rejects: a missing or failing model.onnx is a logged reason and tfjs runs instead.
    const onnx = await chooseOnnx(loaded, req.backend, log);
    const backend: InferenceBackend = onnx.ok ? 'onnxruntime' : backendInfo.name;
    if (onnx.ok) log(`inference: ONNX Runtime (${onnx.detail})`);
    else await closeStarting();
    const out = path.resolve(req.out);
    await ensureOutputFolder(out); // `--out /etc/passwd`: one line naming it, before segmenting
    await ensureOutputFolder(path.join(out, '.parts'));
    const refs = assignImages(dataset, scans);
    // A COCO input already lists its images (and ids); other inputs get an images.coco.json.
    const cocoInput = scans.some((scan) => scan.slices.some((sl) => sl.cocoImageId !== undefined));
    const modelKey = modelKeyOf(loaded);
    const parts: Array<ScanPart | undefined> = [];
    const summaries: ScanSummary[] = [];
    let workers = workersFor(backend);
    /** Started on the first scan that needs the network; replaced after a worker failure. */
    const ensurePool = async (): Promise<InferencePool | undefined> => {
      if (workers === 1) return undefined;
      if (pool && !pool.broken) return pool;
      await pool?.close();
      pool = undefined;
      try {
        const early = starting;
        starting = undefined;
        pool = await (early ?? startPool(backend, workers));
        if (req.signal?.aborted) await pool.close();
        return pool;
      } catch (e) {
        req.signal?.throwIfAborted();
        log(`${workers} inference workers did not start (${(e as Error).message}); using this thread`);
        workers = 1;
        return undefined;
      }
    };

    for (const [i, scan] of scans.entries()) {
      req.signal?.throwIfAborted();
      const file = partFile(out, i, scan.id);
      const previous = req.force ? undefined : await readPart(file, modelKey);
      if (previous) {
        parts.push(previous);
        // part files of older versions lack the acquisition: it comes from the scan, not the run
        summaries.push({ ...previous.summary, acquisition: scanHeader(scan).acquisition, resumed: true });
        req.onScanDone?.(summaries[summaries.length - 1]!);
        continue;
      }
      const started = performance.now();
      const progress = (done: number, total: number) =>
        req.onProgress?.({ scanIndex: i, scanCount: scans.length, scanId: scan.id, done, total });
      try {
        const parallel = await ensurePool();
        const part = await runScan(
          scan,
          refs.get(scan)!,
          loaded,
          backend,
          modelKey,
          req,
          progress,
          parallel,
          onnx.ok ? onnx.predict : undefined,
        );
        await writeJsonAtomic(file, part);
        parts.push(part);
        summaries.push(part.summary);
      } catch (e) {
        // Cancelled: whatever failed (e.g. a terminated worker's batch), the reason is the cancellation.
        if (req.signal?.aborted) throw req.signal.reason ?? e;
        parts.push(undefined);
        summaries.push(failedSummary(scan, backend, e, (performance.now() - started) / 1000));
        // reported once: through onScanDone (the CLI prints it as it happens) and summary.json
      }
      req.onScanDone?.(summaries[summaries.length - 1]!);
    }

    const files = await writeOutputs(out, scans, refs, parts, !cocoInput);
    const segmented = scans.filter((_, i) => parts[i]);
    if (req.export && req.export.length > 0 && segmented.length > 0) {
      const masks = new Map<string, SliceMasks>();
      for (const part of parts) if (part) addPredictedMasks(masks, part.slices, 'predictions');
      const exported = await exportScans({
        dataset,
        masks,
        scans: segmented,
        targets: req.export,
        out,
        names: req.roiNames,
        algorithm: 'AUTOMATIC',
      });
      files.push(...exported.files.map((f) => path.relative(out, f)));
      for (const note of exported.notes) log(note);
    }
    const summary: SegmentSummary = {
      input: path.resolve(req.input),
      model: {
        dir: loaded.dir,
        name: loaded.card.name,
        placeholder: loaded.card.placeholder,
        createdAt: loaded.card.createdAt,
      },
      backend,
      workers,
      scans: summaries,
      ok: summaries.filter((s) => s.status === 'ok').length,
      failed: summaries.filter((s) => s.status === 'failed').length,
      warnings: dataset.warnings ?? [],
      files: [...files, 'summary.json'],
    };
    await writeJsonAtomic(path.join(out, 'summary.json'), summary, true);
    return summary;
  } finally {
    req.signal?.removeEventListener('abort', cancel);
    await pool?.close();
    await closeStarting();
    loaded.model.dispose();
  }
}

/** Merge the parts into the final files; failed scans contribute nothing but keep their images listed. */
async function writeOutputs(
  out: string,
  scans: Scan[],
  refs: Map<Scan, ImageRef[]>,
  parts: Array<ScanPart | undefined>,
  writeImages: boolean,
): Promise<string[]> {
  // `uncertainty` is the slice's (not the organ's): an extra field COCO tools ignore; `score` is unchanged.
  const results: Array<CocoResult & { uncertainty: number }> = [];
  const rows: KaggleMaskRow[] = [];
  scans.forEach((scan, i) => {
    const part = parts[i];
    if (!part) return;
    for (const slice of part.slices) {
      for (const organ of ORGANS) {
        const m = slice.masks[organ];
        rows.push({ id: slice.id, organ, rle: m?.kaggle ?? '' });
        if (m)
          results.push({
            image_id: slice.imageId,
            category_id: categoryIdOf(organ),
            segmentation: m.coco,
            score: m.score,
            uncertainty: slice.uncertainty,
          });
      }
    }
  });
  const files = ['predictions.json'];
  await writeJsonAtomic(path.join(out, 'predictions.json'), results);
  // Kaggle CSV ids must be caseN_dayD_slice_NNNN: slices of other sources (DICOM, plain PNG) are left out,
  // and the file is not written when no slice qualifies.
  const kaggleRows = rows.filter((r) => parseSliceId(r.id) !== undefined);
  if (kaggleRows.length > 0) {
    await writeFileAtomic(path.join(out, 'submission.csv'), formatKaggleCsv(kaggleRows, 'predicted'));
    files.push('submission.csv');
  } else {
    await fs.rm(path.join(out, 'submission.csv'), { force: true });
  }
  if (writeImages) {
    const images = scans.flatMap((scan) =>
      scan.slices.map((s, k) => ({ ref: refs.get(scan)![k]!, slice: s })),
    );
    const coco = buildCocoDataset(
      images.map(({ ref, slice }) => ({
        fileName: ref.fileName,
        width: slice.width,
        height: slice.height,
        masks: {} as SliceMasks,
      })),
    );
    // buildCocoDataset numbers images 1..n in order, which is how assignImages numbered them too.
    coco.images.forEach((image, k) => {
      image.id = images[k]!.ref.imageId;
    });
    await writeJsonAtomic(path.join(out, 'images.coco.json'), coco);
    files.push('images.coco.json');
  }
  return files;
}
