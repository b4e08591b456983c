/**
 * The only place the workstation calls the engine (imaging, masks, model, services). Handlers depend on the
 * Engine interface, so tests can drive them with a small fake and the engine can grow behind this adapter.
 */
import type { Dataset, Scan, SliceMasks } from '../core/types';
import type { BackendInfo, ModelInfo, TrainEpoch } from '../../preload/api';
import path from 'node:path';
import { InputError } from '../core/errors';
import { ORGANS } from '../core/organs';
import { allScans } from '../core/types';
import { writeFileAtomic, writeJsonAtomic } from '../io/files';
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

export interface SegmentProgress {
  /** Slices of this scan done so far. */
  done: number;
  total: number;
}

export interface TrainingExample {
  scan: Scan;
  sliceIndex: number;
  masks: SliceMasks;
}

export interface Engine {
  openDataset(root: string): Promise<Dataset>;
  backend(): Promise<BackendInfo>;
  /** Predict organ masks for every slice of a scan, by slice id. */
  segmentScan(
    scan: Scan,
    opts: { signal: AbortSignal; onProgress: (p: SegmentProgress) => void },
  ): Promise<Map<string, SliceMasks>>;
  train(opts: {
    examples: TrainingExample[];
    epochs: number;
    signal: AbortSignal;
    onEpoch: (e: TrainEpoch) => void;
  }): Promise<ModelInfo>;
  listModels(): Promise<ModelInfo[]>;
  activateModel(id: string): Promise<ModelInfo[]>;
  rollbackModel(): Promise<ModelInfo[]>;
  writeCoco(file: string, dataset: Dataset, masks: Map<string, SliceMasks>): Promise<void>;
  writeKaggleCsv(file: string, dataset: Dataset, masks: Map<string, SliceMasks>): Promise<void>;
  writePngMasks(dir: string, dataset: Dataset, masks: Map<string, SliceMasks>): Promise<string[]>;
}

// ---------------------------------------------------------------------------------------------------------
// The real engine: thin calls into main/imaging, main/masks, main/model and main/services.
// ---------------------------------------------------------------------------------------------------------

function modelInfo(m: { id: string; active: boolean }): ModelInfo {
  const stamp = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(m.id);
  const createdAt = stamp ? `${stamp[1]}-${stamp[2]}-${stamp[3]}T${stamp[4]}:${stamp[5]}:${stamp[6]}Z` : '';
  return { id: m.id, createdAt, active: m.active };
}

function relativeFile(dataset: Dataset, file: string | undefined, fallback: string): string {
  return file
    ? path.relative(dataset.root, path.resolve(dataset.root, file)).split(path.sep).join('/')
    : fallback;
}

export function createEngine(opts: { home: string }): Engine {
  const registry = new ModelRegistry(opts.home);
  // The active model stays loaded between scans; activation or rollback loads the new one on next use.
  let cached: { dir: string; model: Promise<LoadedModel> } | null = null;
  async function activeModel(): Promise<LoadedModel> {
    const dir = await registry.activeModelDir();
    if (!cached || cached.dir !== dir) cached = { dir, model: loadModel(dir) };
    return cached.model;
  }
  return {
    openDataset: (root) => openDataset(root),
    async backend() {
      const info = await initBackend('auto');
      return {
        name: info.name,
        detail: `${info.package} ${info.version}${info.simd ? ' SIMD' : ''}${info.gpu ? ` GPU ${info.gpu}` : ''}`,
      };
    },
    async segmentScan(scan, { signal, onProgress }) {
      await initBackend('auto');
      const result = await inferScan(scan, await activeModel(), {
        signal,
        onProgress: (done, total) => onProgress({ done, total }),
      });
      return new Map(result.slices.map((s) => [s.id, s.masks]));
    },
    async train() {
      throw new InputError('fine-tune', 'the training service is not installed in this build');
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
    async writeCoco(file, dataset, masks) {
      const images = allScans(dataset).flatMap((scan) =>
        scan.slices.map((s) => ({
          fileName: relativeFile(dataset, s.file, s.id),
          width: s.width,
          height: s.height,
          masks: masks.get(s.id) ?? {},
        })),
      );
      await writeJsonAtomic(
        file,
        buildCocoDataset(images, { info: { description: 'Tractus reviewed organ masks' } }),
      );
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
  };
}
