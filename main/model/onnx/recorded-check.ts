/**
 * The tfjs half of ONNX Runtime's start-up self-check, recorded when model.onnx is written: tfjs's output on
 * the self-check slice at every STRIDE-th value, with the SHA-256 of the files it came from (model.onnx and
 * the tfjs model). While those files are unchanged, the start-up check compares ONNX Runtime's output with
 * this record instead of running tfjs on the same slice (≈ 0.1 s of every run for the shipped model, on the
 * thread every segmentation waits for). A missing, unreadable or outdated record means tfjs runs as before:
 * the record only ever replaces a computation, never a decision.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from '../../io/files';
import { MODEL_JSON_FILE, weightFileNames } from '../model-io';
import { ONNX_FILE } from './names';

export const RECORDED_CHECK_FILE = 'model.onnx.check.json';
const FORMAT = 'tractus-onnx-self-check';
/** Every 61st value: about a thousand of the shipped model's 62,208, spread over all three organs' maps. */
const STRIDE = 61;

interface RecordedCheck {
  format: typeof FORMAT;
  version: 1;
  /** SHA-256 (hex) of each file the record was made from, by name within the model folder. */
  files: Record<string, string>;
  /** Length of the whole output; `expected[k]` is its value at k · stride. */
  length: number;
  stride: number;
  expected: number[];
}

/** The files whose contents the record vouches for: model.onnx, model.json and its weight files. */
async function vouchedFiles(dir: string): Promise<string[]> {
  return [ONNX_FILE, MODEL_JSON_FILE, ...(await weightFileNames(dir))];
}

async function digests(dir: string, names: string[]): Promise<Record<string, string>> {
  const entries = await Promise.all(
    names.map(async (name) => [
      name,
      createHash('sha256')
        .update(await fs.readFile(path.join(dir, name)))
        .digest('hex'),
    ]),
  );
  return Object.fromEntries(entries) as Record<string, string>;
}

/** Record tfjs's output on the self-check slice beside `<dir>/model.onnx` (written first). */
export async function writeRecordedCheck(dir: string, tfjsOutput: Float32Array): Promise<void> {
  const expected: number[] = [];
  for (let i = 0; i < tfjsOutput.length; i += STRIDE) expected.push(tfjsOutput[i]!);
  const record: RecordedCheck = {
    format: FORMAT,
    version: 1,
    files: await digests(dir, await vouchedFiles(dir)),
    length: tfjsOutput.length,
    stride: STRIDE,
    expected,
  };
  await writeJsonAtomic(path.join(dir, RECORDED_CHECK_FILE), record);
}

/** The recorded values and the positions they belong to. */
export interface RecordedValues {
  stride: number;
  expected: number[];
}

/**
 * The record for `<dir>`, if there is one that still describes the folder's files and an output of
 * `length` values; undefined otherwise (then tfjs runs the self-check slice itself).
 */
export async function readRecordedCheck(dir: string, length: number): Promise<RecordedValues | undefined> {
  try {
    const r = JSON.parse(await fs.readFile(path.join(dir, RECORDED_CHECK_FILE), 'utf8')) as RecordedCheck;
    const wellFormed =
      r.format === FORMAT &&
      r.version === 1 &&
      r.length === length &&
      Number.isInteger(r.stride) &&
      r.stride > 0 &&
      Array.isArray(r.expected) &&
      r.expected.length === Math.ceil(length / r.stride) &&
      r.expected.every((v) => typeof v === 'number' && Number.isFinite(v));
    if (!wellFormed || !r.files || typeof r.files !== 'object') return undefined;
    const names = await vouchedFiles(dir);
    if (names.length !== Object.keys(r.files).length) return undefined;
    const now = await digests(dir, names);
    if (!names.every((name) => r.files[name] === now[name])) return undefined;
    return { stride: r.stride, expected: r.expected };
  } catch {
    return undefined; // no record, or one that cannot be read: the self-check runs tfjs
  }
}

/** Largest |got − recorded| over the recorded positions. */
export function maxRecordedDiff(got: Float32Array, record: RecordedValues): number {
  let max = 0;
  record.expected.forEach((v, k) => {
    max = Math.max(max, Math.abs(got[k * record.stride]! - v));
  });
  return max;
}
