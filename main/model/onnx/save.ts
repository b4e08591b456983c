/**
 * `model.onnx` beside a model folder's tfjs files, with tfjs's side of the start-up self-check recorded
 * (./recorded-check), and the card's `flopsPerSlice`: the one post-save step that training, fine-tuning and
 * `tractus models export-onnx` all call.
 */
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { readJsonOrExplain, writeFileAtomic, writeJsonAtomic } from '../../io/files';
import { forwardMacsPerImage } from '../backend/bench-unet';
import { MODEL_CARD_FILE, parseModelCard } from '../card';
import { localPredictor } from '../infer';
import { loadModel } from '../model-io';
import { chooseOnnx, selfCheckInput } from './choose';
import { exportOnnx } from './export';
import { ONNX_FILE } from './names';
import { writeRecordedCheck } from './recorded-check';

export interface OnnxWritten {
  file: string;
  bytes: number;
  /** Multiply-adds × 2 of one forward pass at the card's input size. */
  flopsPerSlice: number;
}

/** FLOPs of one slice: multiply-adds × 2 of the convolutions (everything else is negligible). */
export function flopsPerSlice(model: tfl.LayersModel): number {
  return 2 * forwardMacsPerImage(model);
}

/**
 * Export `model` to `<dir>/model.onnx`, record tfjs's output on the self-check slice beside it and
 * `flopsPerSlice` in `<dir>/model-card.json`, each written atomically. The folder must already hold the
 * model (`model` is the one saved there) and its card.
 */
export async function writeOnnxBeside(model: tfl.LayersModel, dir: string): Promise<OnnxWritten> {
  const bytes = exportOnnx(model);
  const file = path.join(dir, ONNX_FILE);
  await writeFileAtomic(file, bytes);
  const cardFile = path.join(dir, MODEL_CARD_FILE);
  const card = parseModelCard(await readJsonOrExplain(cardFile), cardFile);
  const { height, width } = card.input.size;
  const slice = selfCheckInput(height * width * card.architecture.inChannels);
  await writeRecordedCheck(dir, await localPredictor(model, card)(slice, 1));
  const flops = flopsPerSlice(model);
  await writeJsonAtomic(cardFile, { ...card, flopsPerSlice: flops }, true);
  return { file, bytes: bytes.byteLength, flopsPerSlice: flops };
}

/**
 * After training: write model.onnx, but never fail the run over it (tfjs still serves the model); the
 * reason is logged instead.
 */
export async function writeOnnxAfterTraining(
  model: tfl.LayersModel,
  dir: string,
  log: (msg: string) => void,
): Promise<OnnxWritten | null> {
  try {
    const written = await writeOnnxBeside(model, dir);
    log(`wrote ${written.file} (${(written.flopsPerSlice / 1e9).toFixed(2)} GFLOP per slice)`);
    return written;
  } catch (e) {
    log(`model.onnx not written (${(e as Error).message}); the model runs on tfjs`);
    return null;
  }
}

export interface OnnxExportReport extends OnnxWritten {
  /** ONNX Runtime's self-check against tfjs, or why it could not run. */
  check: { ok: true; maxDiff: number; detail: string } | { ok: false; reason: string };
}

/** `tractus models export-onnx <dir>`: export a saved model folder and check it with ONNX Runtime. */
export async function exportModelFolder(dir: string): Promise<OnnxExportReport> {
  const loaded = await loadModel(dir);
  try {
    const written = await writeOnnxBeside(loaded.model, dir);
    // The session stays open: chooseOnnx keeps it for a segmentation later in this process. The whole
    // output is compared with tfjs here, not just the values recorded a moment ago.
    const choice = await chooseOnnx(loaded, 'onnx', undefined, { against: 'tfjs' });
    const check = choice.ok
      ? { ok: true as const, maxDiff: choice.maxDiff, detail: choice.detail }
      : { ok: false as const, reason: choice.reason };
    return { ...written, check };
  } finally {
    loaded.model.dispose();
  }
}
