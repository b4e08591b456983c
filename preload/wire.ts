/**
 * Compact JSON encodings for pixels and masks on the API (both transports carry JSON).
 * Pure: no Node, no DOM beyond the standard atob/btoa globals, so main and the renderer share it.
 */
import { InputError } from '../main/core/errors';
import type { BinaryMask, PixelArray, SliceImage } from '../main/core/types';
import type { MaskWire, SliceImageWire } from './api';

const CHUNK = 0x8000;

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  // fromCharCode on the whole array would overflow the argument limit on large slices.
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

function dtypeOf(data: PixelArray): SliceImageWire['dtype'] {
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Int16Array) return 'int16';
  return 'float32';
}

/** Percentile of a pixel array by histogram-free sampling (at most ~64k samples, fast for any size). */
export function percentiles(data: PixelArray, ps: number[]): number[] {
  const step = Math.max(1, Math.floor(data.length / 65536));
  const sample: number[] = [];
  for (let i = 0; i < data.length; i += step) sample.push(data[i]!);
  sample.sort((a, b) => a - b);
  if (sample.length === 0) return ps.map(() => 0);
  return ps.map((p) => sample[Math.min(sample.length - 1, Math.floor((p / 100) * sample.length))]!);
}

/** Pixels to the wire (values kept exactly, little-endian as every supported platform is). */
export function encodeSliceImage(image: SliceImage): SliceImageWire {
  const { data } = image;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const [low, high] = percentiles(data, [1, 99.5]) as [number, number];
  return {
    width: image.width,
    height: image.height,
    dtype: dtypeOf(data),
    data: bytesToBase64(bytes),
    low,
    high,
  };
}

export function decodeSliceImage(wire: SliceImageWire): SliceImage {
  const bytes = base64ToBytes(wire.data);
  const n = wire.width * wire.height;
  const size = { uint8: 1, uint16: 2, int16: 2, float32: 4 }[wire.dtype];
  if (bytes.length !== n * size) {
    throw new InputError('slice image', `expected ${n * size} bytes of ${wire.dtype}, got ${bytes.length}`);
  }
  // Copy into a fresh, aligned buffer: a view on `bytes` at an odd offset would not be allowed.
  const buf = bytes.slice().buffer;
  const data =
    wire.dtype === 'uint8'
      ? new Uint8Array(buf)
      : wire.dtype === 'uint16'
        ? new Uint16Array(buf)
        : wire.dtype === 'int16'
          ? new Int16Array(buf)
          : new Float32Array(buf);
  return { width: wire.width, height: wire.height, data };
}

/** Row-major run lengths, alternating 0-runs and 1-runs, starting with a (possibly empty) run of zeros. */
export function encodeMask(mask: BinaryMask): MaskWire {
  const runs: number[] = [];
  let current = 0;
  let length = 0;
  for (let i = 0; i < mask.data.length; i++) {
    const v = mask.data[i] ? 1 : 0;
    if (v === current) length++;
    else {
      runs.push(length);
      current = v;
      length = 1;
    }
  }
  runs.push(length);
  return { width: mask.width, height: mask.height, runs };
}

/** Inverse of encodeMask; rejects runs that do not add up to the image size with an InputError. */
export function decodeMask(wire: MaskWire, where = 'mask'): BinaryMask {
  const { width, height, runs } = wire;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new InputError(where, `invalid mask size ${width}×${height}`);
  }
  const n = width * height;
  const data = new Uint8Array(n);
  let pos = 0;
  for (let r = 0; r < runs.length; r++) {
    const len = runs[r]!;
    if (!Number.isInteger(len) || len < 0) throw new InputError(where, `run ${r} is not a count: ${len}`);
    if (pos + len > n) throw new InputError(where, `runs cover more than the ${n} pixels of the mask`);
    if (r % 2 === 1) data.fill(1, pos, pos + len);
    pos += len;
  }
  if (pos !== n) throw new InputError(where, `runs cover ${pos} of the ${n} pixels of the mask`);
  return { width, height, data };
}

export function countPixels(mask: BinaryMask): number {
  let c = 0;
  for (let i = 0; i < mask.data.length; i++) c += mask.data[i]!;
  return c;
}

function isEmptyWire(wire: MaskWire | undefined): boolean {
  return !wire || wire.runs.every((len, r) => r % 2 === 0 || len === 0);
}

/**
 * True when two slices' masks have the same pixels on every organ (an absent mask is an empty one): a
 * slice whose masks equal the layer they came from carries no edit.
 */
export function sameSliceMasks(
  a: Partial<Record<string, MaskWire>> | undefined,
  b: Partial<Record<string, MaskWire>> | undefined,
): boolean {
  const organs = new Set([...Object.keys(a ?? {}), ...Object.keys(b ?? {})]);
  for (const organ of organs) {
    const x = a?.[organ];
    const y = b?.[organ];
    if (isEmptyWire(x) && isEmptyWire(y)) continue;
    if (!x || !y || x.width !== y.width || x.height !== y.height) return false;
    if (x.runs.length === y.runs.length && x.runs.every((v, i) => v === y.runs[i])) continue;
    // Runs may be written differently (zero-length runs) for the same pixels.
    const dx = decodeMask(x).data;
    const dy = decodeMask(y).data;
    for (let i = 0; i < dx.length; i++) if (dx[i] !== dy[i]) return false;
  }
  return true;
}
