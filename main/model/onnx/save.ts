/**
 * `model.onnx` beside a model folder's tfjs files, and the card's `flopsPerSlice`: the one post-save step
 * that training, fine-tuning and `tractus models export-onnx` all call.
 */
import path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { readJsonOrExplain, writeFileAtomic, writeJsonAtomic } from '../../io/files';
import { forwardMacsPerImage } from '../backend/bench-unet';
import { MODEL_CARD_FILE, parseModelCard } from '../card';
import { loadModel } from '../model-io';
import { chooseOnnx } from './choose';
import { exportOnnx } from './export';
import { ONNX_FILE } from './names';

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
 * Export `model` to `<dir>/model.onnx` and record `flopsPerSlice` in `<dir>/model-card.json`, both
 * written atomically. The folder must already hold the model's card.
 */
export async function writeOnnxBeside(model: tfl.LayersModel, dir: string): Promise<OnnxWritten> {
  const bytes = exportOnnx(model);
  const file = path.join(dir, ONNX_FILE);
  await writeFileAtomic(file, bytes);
  const cardFile = path.join(dir, MODEL_CARD_FILE);
  const card = parseModelCard(await readJsonOrExplain(cardFile), cardFile);
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
    // The session stays open: chooseOnnx keeps it for a segmentation later in this process.
    const choice = await chooseOnnx(loaded, 'onnx');
    const check = choice.ok
      ? { ok: true as const, maxDiff: choice.maxDiff, detail: choice.detail }
      : { ok: false as const, reason: choice.reason };
    return { ...written, check };
  } finally {
    loaded.model.dispose();
  }
}
