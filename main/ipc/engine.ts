/**
 * The only place the workstation calls the engine (imaging, masks, model, services). Handlers depend on the
 * Engine interface, so tests can drive them with a small fake and the engine can grow behind this adapter.
 */
import type { Dataset, Scan, SliceMasks } from '../core/types';
import type {
  BackendInfo,
  MaskSource,
  ModelInfo,
  SliceState,
  TrainEpoch,
  TrainResult,
} from '../../preload/api';
import path from 'node:path';
import { isInputError } from '../core/errors';
import { ORGANS, type Organ } from '../core/organs';
import { allScans } from '../core/types';
import { readJsonOrExplain, writeFileAtomic, writeJsonAtomic } from '../io/files';
import { openDataset } from '../imaging/open';
import { writePngRgb } from '../imaging/png';
import { buildCocoDataset } from '../masks/coco';
import { sliceMasksToColourMask } from '../masks/colour-masks';
import { formatKaggleCsv, type KaggleMaskRow } from '../masks/kaggle-csv';
import { encodeKaggleRle } from '../masks/kaggle-rle';
import { ModelRegistry } from '../model/registry';
import { initBackend } from '../model/backend/select';
import { segmentScan as inferScan } from '../model/infer';
import { loadModel, type LoadedModel } from '../model/model-io';
import { chooseOnnx } from '../model/onnx/choose';
import { keepInferencePool } from '../model/parallel/infer-pool-keeper';
import { scanRunOptions } from '../model/parallel/infer-pool';
import type { EpochRecord } from '../model/train/history';
import { CHECKPOINT_DIR } from '../model/train/loop';
import { compareOnHeldOut } from '../services/compare-models';
import { train as trainModel, type TrainJob } from '../services/train';
import { writeTrainingSet, type TrainingExample } from '../workspace/training-set';

export type { TrainingExample } from '../workspace/training-set';

/** A model run over one scan: masks and model uncertainty (0 … 1, see model/uncertainty), by slice id. */
export interface ScanPrediction {
  masks: Map<string, SliceMasks>;
  uncertainty: Record<string, number>;
}

export interface SegmentProgress {
  /** Slices of this scan done so far. */
  done: number;
  total: number;
}

/** Where a fine-tune is in its current epoch (for the progress bar between epoch events). */
export interface TrainStep {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  phase: 'prepare' | 'train' | 'validate';
}

export interface TrainRequest {
  examples: TrainingExample[];
  /** Fresh folder in the workspace for this run: training set in data/, the model folder beside it. */
  workDir: string;
  /** Name of the model folder, and so of the registered model (after its time stamp). */
  name: string;
  /** What the model card calls it: date and data (see services/compare-models fineTuneTitle). */
  title: string;
  epochs: number;
  signal: AbortSignal;
  onEpoch: (e: TrainEpoch) => void;
  onStep?: (s: TrainStep) => void;
}

export interface Engine {
  /** `roiNames`: the clinic's structure names (settings), recognised when contours are read in. */
  openDataset(root: string, opts?: { roiNames?: Partial<Record<Organ, string>> }): Promise<Dataset>;
  backend(): Promise<BackendInfo>;
  /** Predict organ masks and their uncertainty for every slice of a scan. */
  segmentScan(
    scan: Scan,
    opts: { signal: AbortSignal; onProgress: (p: SegmentProgress) => void },
  ): Promise<ScanPrediction>;
  /**
   * Fine-tune the active model on reviewed slices: write them as a COCO training set into the workspace,
   * train from the active model (`--init`), register the result (not activated: the user decides).
   */
  train(opts: TrainRequest): Promise<TrainResult>;
  listModels(): Promise<ModelInfo[]>;
  activateModel(id: string): Promise<ModelInfo[]>;
  rollbackModel(): Promise<ModelInfo[]>;
  /**
   * A COCO instances file of every slice, `file_name`s relative to the file's own folder (so it opens
   * from where it is written); with `review`, each image and annotation says where its contour came from
   * and its review state, and the audit trail of every scan travels in a top-level `tractus` block.
   */
  writeCoco(
    file: string,
    dataset: Dataset,
    masks: Map<string, SliceMasks>,
    review?: CocoReview,
  ): Promise<void>;
  writeKaggleCsv(file: string, dataset: Dataset, masks: Map<string, SliceMasks>): Promise<void>;
  writePngMasks(dir: string, dataset: Dataset, masks: Map<string, SliceMasks>): Promise<string[]>;
  /** Stop background work held between calls (the inference workers); optional for test fakes. */
  close?(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// The real engine: thin calls into main/imaging, main/masks, main/model and main/services.
// ---------------------------------------------------------------------------------------------------------

/** What a model card says that the model list shows; tolerant, since cards come from disk. */
function cardFacts(card: unknown): Pick<ModelInfo, 'note' | 'metrics'> {
  const c = card as
    { description?: unknown; validation?: { dice?: Partial<Record<Organ, unknown>> } | null } | undefined;
  const out: Pick<ModelInfo, 'note' | 'metrics'> = {};
  if (typeof c?.description === 'string') out.note = c.description;
  const dice = c?.validation?.dice;
  if (dice) {
    const metrics: Record<string, number> = {};
    for (const organ of ORGANS) {
      const v = dice[organ];
      if (typeof v === 'number' && Number.isFinite(v)) metrics[`dice_${organ}`] = v;
    }
    if (Object.keys(metrics).length > 0) out.metrics = metrics;
  }
  return out;
}

function modelInfo(m: { id: string; active: boolean; card?: unknown }): ModelInfo {
  const stamp = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(m.id);
  const createdAt = stamp ? `${stamp[1]}-${stamp[2]}-${stamp[3]}T${stamp[4]}:${stamp[5]}:${stamp[6]}Z` : '';
  return { id: m.id, createdAt, active: m.active, ...cardFacts(m.card) };
}

export function epochOf(record: EpochRecord, epochs: number): TrainEpoch {
  return {
    epoch: record.epoch,
    epochs,
    loss: record.trainLoss,
    valLoss: record.valLoss,
    valDice: record.valDice,
    valMeanDice: record.valMeanDice,
    learningRate: record.learningRate,
    best: record.best,
    seconds: record.seconds,
  };
}

/** Review facts of one exported slice (COCO readers ignore keys they do not know). */
export interface ImageReview {
  scan_id: string;
  slice_id: string;
  /** Where the contour came from: ground-truth (imported), prediction (model run), workspace (edited). */
  source: MaskSource;
  /** The layer under it (`truth`, `run:N`) and the model of a run. */
  layer: string;
  model?: string;
  review_state: SliceState;
  viewed: boolean;
}

export interface CocoReview {
  slices: Map<string, ImageReview>;
  /** Audit trail by scan id (main/workspace/schema AuditEntry). */
  audit: Record<string, unknown[]>;
  exportedBy: string;
}

/** `file` (relative to the dataset root) as seen from `fromDir`, '/'-separated; `fallback` without a file. */
function relativeFile(dataset: Dataset, file: string | undefined, fallback: string, fromDir: string): string {
  return file ? path.relative(fromDir, path.resolve(dataset.root, file)).split(path.sep).join('/') : fallback;
}

export interface EngineOptions {
  /** Where the model registry lives (models/, active, activations.json). */
  home: string;
  /** The shipped fallback model (tests use a tiny one); default models/default. */
  shippedModelDir?: string;
  /** Fixed training settings (tests: backend, steps per epoch, batch size); the rest are the defaults. */
  trainDefaults?: Partial<
    Pick<TrainJob, 'backend' | 'batchSize' | 'stepsPerEpoch' | 'learningRate' | 'seed'>
  >;
  /** Close the inference workers after this long without a scan (ms); default INFERENCE_IDLE_MS. */
  inferenceIdleMs?: number;
  /** Tests only: a stand-in inference worker module. */
  inferenceWorkerUrl?: URL;
}

/** Long enough to cover a clinician moving from one scan to the next, short enough to free the memory. */
export const INFERENCE_IDLE_MS = 3 * 60_000;

export function createEngine(opts: EngineOptions): Engine {
  const registry = opts.shippedModelDir
    ? new ModelRegistry(opts.home, opts.shippedModelDir)
    : new ModelRegistry(opts.home);
  // The active model stays loaded between scans; activation or rollback loads the new one on next use.
  let cached: { dir: string; model: Promise<LoadedModel> } | null = null;
  async function activeModel(): Promise<LoadedModel> {
    const dir = await registry.activeModelDir();
    if (!cached || cached.dir !== dir) cached = { dir, model: loadModel(dir) };
    return cached.model;
  }
  // Segmentation runs in worker threads so the main process (and so the window) stays responsive.
  const inference = keepInferencePool({
    idleMs: opts.inferenceIdleMs ?? INFERENCE_IDLE_MS,
    workerUrl: opts.inferenceWorkerUrl,
  });
  return {
    openDataset: (root, opts) => openDataset(root, opts),
    async backend() {
      const info = await initBackend('auto');
      // What runs the active model's forward passes: ONNX Runtime when its model.onnx passes the self-check.
      const onnx = await activeModel().then(
        (loaded) => chooseOnnx(loaded, 'auto', console.warn),
        () => null,
      );
      if (onnx?.ok) return { name: 'onnxruntime', detail: onnx.detail };
      return {
        name: info.name,
        detail: `${info.package} ${info.version}${info.simd ? ' SIMD' : ''}${info.gpu ? ` GPU ${info.gpu}` : ''}`,
      };
    },
    async segmentScan(scan, { signal, onProgress }) {
      const backend = await initBackend('auto');
      const loaded = await activeModel();
      const onnx = await chooseOnnx(loaded, 'auto', console.warn);
      const name = onnx.ok ? 'onnxruntime' : backend.name;
      const result = await inference.use(loaded.dir, name, signal, (pool) =>
        inferScan(scan, loaded, {
          signal,
          onProgress: (done, total) => onProgress({ done, total }),
          ...scanRunOptions(pool, onnx.ok ? onnx.predict : undefined),
        }),
      );
      return {
        masks: new Map(result.slices.map((s) => [s.id, s.masks])),
        uncertainty: Object.fromEntries(result.slices.map((s) => [s.id, s.uncertainty])),
      };
    },
    async train({ examples, workDir, name, title, epochs, signal, onEpoch, onStep }) {
      onStep?.({ epoch: 0, epochs, step: 0, steps: examples.length, phase: 'prepare' });
      const set = await writeTrainingSet(path.join(workDir, 'data'), examples, { signal });
      const baseModelId = await registry.activeId();
      const init = await registry.activeModelDir();
      const outcome = await trainModel({
        ...opts.trainDefaults,
        data: set.file,
        outDir: path.join(workDir, name),
        init,
        description: title,
        epochs,
        // Patient-wise validation needs two patients; with one, every reviewed slice is for training.
        val: set.patients >= 2 ? '0.2' : '0',
        registry,
        register: true,
        activate: false,
        signal,
        onProgress: (p) => {
          if (p.phase === 'epoch-end' && p.record) onEpoch(epochOf(p.record, epochs));
          else if (p.phase !== 'epoch-end')
            onStep?.({ epoch: p.epoch, epochs, step: p.step, steps: p.steps, phase: p.phase });
        },
      });
      const validation = outcome.card.validation;
      // The held-out patients of this run (services/train fixes the split in its checkpoint config). The
      // model is registered by now: a comparison that cannot be made leaves it unrecommended, not lost.
      let comparison: TrainResult['comparison'] = null;
      if (outcome.registered && !outcome.result.cancelled) {
        try {
          const config = (await readJsonOrExplain(
            path.join(outcome.outDir, CHECKPOINT_DIR, 'config.json'),
          )) as { valPatients?: string[] };
          const heldOut = examples.filter((e) => config.valPatients?.includes(e.scan.patientId));
          comparison = await compareOnHeldOut(
            heldOut,
            { id: baseModelId ?? 'default', dir: init },
            { id: outcome.registered.id, dir: outcome.registered.dir },
            signal,
          );
        } catch (e) {
          if (!isInputError(e) && !signal.aborted) throw e;
        }
      }
      return {
        modelId: outcome.registered?.id ?? null,
        title,
        comparison,
        baseModelId,
        trainingSet: set.file,
        outDir: outcome.outDir,
        slices: set.slices,
        validationPatients: validation?.patients ?? 0,
        history: outcome.result.history.map((r) => epochOf(r, epochs)),
        cancelled: outcome.result.cancelled,
        backend: outcome.backend,
      };
    },
    listModels: async () => (await registry.list()).map(modelInfo),
    async activateModel(id) {
      await registry.activate(id);
      return (await registry.list()).map(modelInfo);
    },
    async rollbackModel() {
      await registry.rollback();
      return (await registry.list()).map(modelInfo);
    },
    async writeCoco(file, dataset, masks, review) {
      const slices = allScans(dataset).flatMap((scan) => scan.slices);
      const images = slices.map((s) => ({
        fileName: relativeFile(dataset, s.file, s.id, path.dirname(path.resolve(file))),
        width: s.width,
        height: s.height,
        masks: masks.get(s.id) ?? {},
      }));
      const coco = buildCocoDataset(images, {
        info: {
          description: 'Tractus reviewed organ masks',
          date_created: new Date().toISOString(),
          ...(review ? { exported_by: review.exportedBy } : {}),
        },
      });
      if (!review) return writeJsonAtomic(file, coco);
      // Image k is slice k (buildCocoDataset numbers images from 1 in input order).
      const facts = slices.map((s) => review.slices.get(s.id));
      await writeJsonAtomic(file, {
        ...coco,
        images: coco.images.map((image, k) => ({ ...image, ...(facts[k] ? { tractus: facts[k] } : {}) })),
        annotations: coco.annotations.map((a) => {
          const f = facts[a.image_id - 1];
          return f ? { ...a, tractus: { source: f.source, review_state: f.review_state } } : a;
        }),
        tractus: { format: 'tractus-export', audit: review.audit },
      });
    },
    async writeKaggleCsv(file, dataset, masks) {
      const rows: KaggleMaskRow[] = [];
      for (const scan of allScans(dataset)) {
        for (const s of scan.slices) {
          for (const organ of ORGANS) {
            const m = masks.get(s.id)?.[organ];
            rows.push({ id: s.id, organ, rle: m ? encodeKaggleRle(m.data) : '' });
          }
        }
      }
      await writeFileAtomic(file, formatKaggleCsv(rows, 'segmentation'));
    },
    async writePngMasks(dir, dataset, masks) {
      const files: string[] = [];
      for (const scan of allScans(dataset)) {
        for (const s of scan.slices) {
          const file = path.join(dir, scan.id, `${s.id}.png`);
          await writePngRgb(
            file,
            sliceMasksToColourMask(masks.get(s.id) ?? {}, s.width, s.height),
            s.width,
            s.height,
          );
          files.push(file);
        }
      }
      return files;
    },
    close: () => inference.close(),
  };
}
