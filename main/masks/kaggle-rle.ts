/**
 * Kaggle RLE as the UW-Madison GI Tract competition writes it: `start length` pairs, starts 1-based,
 * running along image rows (row-major, the same order as our BinaryMask data). Empty string = no pixels.
 */
import { pixelKernels } from '../kernels/pixels';
import { InputError } from '../core/errors';

const INTEGER = /^\d+$/;

/**
 * Decode a Kaggle RLE into a row-major 0/1 mask of `width * height` bytes.
 * Strict: anything that is not a sorted list of disjoint in-image runs is an InputError naming `where`
 * (a slice id or file:line), because a silently shifted run would be a wrong organ outline.
 */
export function decodeKaggleRle(rle: string, width: number, height: number, where: string): Uint8Array {
  checkSize(width, height, where);
  const total = width * height;
  const mask = new Uint8Array(total);
  const trimmed = rle.trim();
  if (trimmed === '') return mask;
  const tokens = trimmed.split(/\s+/);
  if (tokens.length % 2 !== 0) {
    throw new InputError(
      where,
      `RLE has an odd number of values (${tokens.length}); expected start/length pairs`,
    );
  }
  let previousEnd = 0; // 0-based exclusive end of the previous run
  for (let i = 0; i < tokens.length; i += 2) {
    const start = parseCount(tokens[i]!, where, 'start', i / 2);
    const length = parseCount(tokens[i + 1]!, where, 'length', i / 2);
    const pair = `run ${i / 2 + 1} (${start} ${length})`;
    if (start < 1) throw new InputError(where, `${pair}: start must be at least 1 (starts are 1-based)`);
    if (length < 1) throw new InputError(where, `${pair}: length must be at least 1`);
    const begin = start - 1;
    const end = begin + length;
    if (begin < previousEnd) {
      throw new InputError(
        where,
        `${pair}: runs overlap or are not sorted (previous run ends at ${previousEnd})`,
      );
    }
    if (end > total) {
      throw new InputError(where, `${pair}: runs past the image end (${width}×${height} = ${total} pixels)`);
    }
    mask.fill(1, begin, end);
    previousEnd = end;
  }
  return mask;
}

/**
 * Encode a row-major mask (any non-zero byte counts as inside) as Kaggle RLE; '' for an empty mask. The
 * runs are found by the WebAssembly kernels (main/kernels/pixels.c).
 */
export function encodeKaggleRle(mask: Uint8Array): string {
  return kaggleRleText(pixelKernels().maskRuns(mask, mask.length, 1, false).rows);
}

/** Kaggle RLE text of (1-based start, length) pairs. */
export function kaggleRleText(pairs: ArrayLike<number>): string {
  const parts: string[] = [];
  for (let k = 0; k + 1 < pairs.length; k += 2) parts.push(`${pairs[k]} ${pairs[k + 1]}`);
  return parts.join(' ');
}

function parseCount(token: string, where: string, what: string, run: number): number {
  if (!INTEGER.test(token)) {
    throw new InputError(where, `run ${run + 1}: ${what} '${clip(token)}' is not a non-negative integer`);
  }
  const value = Number(token);
  if (!Number.isSafeInteger(value))
    throw new InputError(where, `run ${run + 1}: ${what} ${clip(token)} is too large`);
  return value;
}

function checkSize(width: number, height: number, where: string): void {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new InputError(where, `image size ${width}×${height} is not a positive integer size`);
  }
}

/** Keep error messages short when the input is a huge garbage token. */
export function clip(text: string, max = 40): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
