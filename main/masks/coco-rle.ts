/**
 * COCO run-length encoding with pycocotools semantics (common/maskApi.c):
 * runs go down image columns (column-major, "Fortran order"), alternate background/foreground and always
 * start with a background run (0 when the first pixel is inside). The compressed form packs the run lengths
 * into ASCII 48..111, 5 data bits per character plus a continuation bit, each count from the fourth on
 * stored as the difference to the count two before it. Our BinaryMask is row-major: the transposition
 * happens here and nowhere else.
 */
import { countNonZero } from '../core/arrays';
import { pixelKernels } from '../kernels/pixels';
import { InputError } from '../core/errors';
import type { BinaryMask } from '../core/types';

/** Compressed RLE as pycocotools writes it into JSON. `size` is [height, width]. */
export interface CocoRle {
  size: [height: number, width: number];
  counts: string;
}

/** Uncompressed RLE (as COCO uses for iscrowd annotations): the run lengths themselves. */
export interface UncompressedRle {
  size: [height: number, width: number];
  counts: number[];
}

/**
 * Column-major run lengths of a row-major mask, exactly as pycocotools' rleEncode; found by the WebAssembly
 * kernels (main/kernels/pixels.c), which walk only the mask's bounding box pixel by pixel.
 */
export function maskToCounts(mask: BinaryMask): number[] {
  return Array.from(pixelKernels().maskRuns(mask.data, mask.width, mask.height, true).cols);
}

export function encodeCocoRle(mask: BinaryMask): CocoRle {
  return cocoRleOf(mask, maskToCounts(mask));
}

/** The COCO RLE of `mask` from its column-major run lengths (as maskToCounts finds them). */
export function cocoRleOf(mask: BinaryMask, counts: ArrayLike<number>): CocoRle {
  return { size: [mask.height, mask.width], counts: compressCounts(counts) };
}

export function encodeUncompressedRle(mask: BinaryMask): UncompressedRle {
  return { size: [mask.height, mask.width], counts: maskToCounts(mask) };
}

/** pycocotools' rleToString. */
export function compressCounts(counts: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i]!;
    if (i > 2) x -= counts[i - 2]!;
    let more = true;
    while (more) {
      // Arithmetic (not 32-bit) shifts so counts past 2^31 cannot wrap; x stays an exact integer.
      let c = ((x % 32) + 32) % 32;
      x = Math.floor(x / 32);
      more = c & 0x10 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      s += String.fromCharCode(c + 48);
    }
  }
  return s;
}

/** Longest count we accept: 7 characters carry 35 bits, far past any image we could hold. */
const MAX_CHARS_PER_COUNT = 7;

/** pycocotools' rleFrString, strict: bad characters, a cut-off last count or negative runs are InputErrors. */
export function decompressCounts(s: string, where: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < s.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= s.length) throw new InputError(where, 'compressed RLE counts end in the middle of a number');
      const code = s.charCodeAt(p) - 48;
      if (code < 0 || code > 63) {
        throw new InputError(where, `compressed RLE has the character '${s[p]}' (allowed: ASCII '0' to 'o')`);
      }
      if (k >= MAX_CHARS_PER_COUNT)
        throw new InputError(where, 'compressed RLE has an impossibly long count');
      x += (code & 0x1f) * 2 ** (5 * k);
      more = (code & 0x20) !== 0;
      p++;
      k++;
      if (!more && code & 0x10) x -= 2 ** (5 * k); // sign-extend the last 5-bit group
    }
    if (counts.length > 2) x += counts[counts.length - 2]!;
    if (x < 0)
      throw new InputError(
        where,
        `compressed RLE decodes to a negative run length (count ${counts.length + 1})`,
      );
    counts.push(x);
  }
  return counts;
}

/** Decode compressed or uncompressed COCO RLE into a row-major mask; runs must cover the image exactly. */
export function decodeCocoRle(rle: CocoRle | UncompressedRle, where: string): BinaryMask {
  const [height, width] = checkRleSize(rle.size, where);
  const counts =
    typeof rle.counts === 'string' ? decompressCounts(rle.counts, where) : checkCounts(rle.counts, where);
  const total = width * height;
  let sum = 0;
  for (const c of counts) sum += c;
  if (sum !== total) {
    throw new InputError(where, `RLE runs cover ${sum} pixels but the ${width}×${height} image has ${total}`);
  }
  const data = new Uint8Array(total);
  let position = 0; // column-major index
  for (let j = 0; j < counts.length; j++) {
    const c = counts[j]!;
    if (j % 2 === 1) {
      for (let q = position; q < position + c; q++) {
        const x = Math.floor(q / height);
        data[(q - x * height) * width + x] = 1;
      }
    }
    position += c;
  }
  return { width, height, data };
}

/** The run lengths of either form, checked. */
export function rleCounts(rle: CocoRle | UncompressedRle, where = 'RLE'): number[] {
  return typeof rle.counts === 'string'
    ? decompressCounts(rle.counts, where)
    : checkCounts(rle.counts, where);
}

/** pycocotools' area: the sum of the foreground runs. */
export function rleArea(rle: CocoRle | UncompressedRle): number {
  return countsArea(rleCounts(rle));
}

function countsArea(counts: readonly number[]): number {
  let area = 0;
  for (let j = 1; j < counts.length; j += 2) area += counts[j]!;
  return area;
}

/** pycocotools' toBbox: [x, y, width, height] of the foreground, [0, 0, 0, 0] when empty. */
export function rleBbox(rle: CocoRle | UncompressedRle): [x: number, y: number, w: number, h: number] {
  return countsBbox(rleCounts(rle), rle.size[0]);
}

function countsBbox(counts: readonly number[], h: number): [number, number, number, number] {
  // Same walk as rleToBbox: a trailing background run is ignored, and a run that wraps from one column into
  // the next spans every row.
  const m = counts.length - (counts.length % 2);
  if (m === 0 || h === 0) return [0, 0, 0, 0];
  let xs = Infinity;
  let ys = Infinity;
  let xe = 0;
  let ye = 0;
  let cc = 0;
  let xp = 0;
  for (let j = 0; j < m; j++) {
    cc += counts[j]!;
    const t = cc - (j % 2);
    const y = t % h;
    const x = (t - y) / h;
    if (j % 2 === 0) xp = x;
    else if (xp < x) {
      ys = 0;
      ye = h - 1;
    }
    xs = Math.min(xs, x);
    xe = Math.max(xe, x);
    ys = Math.min(ys, y);
    ye = Math.max(ye, y);
  }
  return [xs, ys, xe - xs + 1, ye - ys + 1];
}

/** Bounding box [x, y, w, h] of a row-major mask ([0, 0, 0, 0] when empty), equal to rleBbox of its RLE. */
export function maskBbox(mask: BinaryMask): [x: number, y: number, w: number, h: number] {
  return pixelKernels().maskRuns(mask.data, mask.width, mask.height, false).box;
}

/** Number of inside pixels of a row-major mask. */
export function maskArea(mask: BinaryMask): number {
  return countNonZero(mask.data);
}

/**
 * pycocotools' maskUtils.iou for RLEs: result[d][g] for detection d and ground truth g. Computed on the
 * run lengths (merge walk), never on pixels. As pycocotools: pairs whose bounding boxes do not overlap are
 * 0; for a crowd ground truth the union is the detection's area; pairs of different image size whose boxes
 * overlap are -1.
 */
export function rleIou(
  dt: readonly (CocoRle | UncompressedRle)[],
  gt: readonly (CocoRle | UncompressedRle)[],
  iscrowd: readonly boolean[],
): number[][] {
  const dtCounts = dt.map((r, i) => rleCounts(r, `detection ${i}`));
  const gtCounts = gt.map((r, i) => rleCounts(r, `ground truth ${i}`));
  const dtBoxes = dtCounts.map((c, i) => countsBbox(c, dt[i]!.size[0]));
  const gtBoxes = gtCounts.map((c, i) => countsBbox(c, gt[i]!.size[0]));
  return dtCounts.map((dc, d) =>
    gtCounts.map((gc, g) => {
      const crowd = iscrowd[g] === true;
      if (boxIou(dtBoxes[d]!, gtBoxes[g]!, crowd) <= 0) return 0;
      const [dh, dw] = dt[d]!.size;
      const [gh, gw] = gt[g]!.size;
      if (dh !== gh || dw !== gw) return -1;
      const { intersection, union } = overlap(dc, gc);
      if (intersection === 0) return 0;
      return intersection / (crowd ? countsArea(dc) : union);
    }),
  );
}

/** Intersection and union pixel counts of two run-length lists of the same image. */
function overlap(a: readonly number[], b: readonly number[]): { intersection: number; union: number } {
  let ia = 0;
  let ib = 0;
  let ra = a[0] ?? 0; // pixels left in the current run of a
  let rb = b[0] ?? 0;
  let va = false; // current run of a is foreground
  let vb = false;
  let intersection = 0;
  let union = 0;
  for (;;) {
    // Step past finished runs (zero-length runs included) before taking the next common stretch.
    while (ra === 0 && ia + 1 < a.length) {
      ra = a[++ia]!;
      va = !va;
    }
    while (rb === 0 && ib + 1 < b.length) {
      rb = b[++ib]!;
      vb = !vb;
    }
    if (ra === 0 || rb === 0) break;
    const c = Math.min(ra, rb);
    if (va || vb) union += c;
    if (va && vb) intersection += c;
    ra -= c;
    rb -= c;
  }
  return { intersection, union };
}

function boxIou(d: readonly number[], g: readonly number[], crowd: boolean): number {
  const w = Math.min(d[0]! + d[2]!, g[0]! + g[2]!) - Math.max(d[0]!, g[0]!);
  if (w <= 0) return 0;
  const h = Math.min(d[1]! + d[3]!, g[1]! + g[3]!) - Math.max(d[1]!, g[1]!);
  if (h <= 0) return 0;
  const da = d[2]! * d[3]!;
  const i = w * h;
  return i / (crowd ? da : da + g[2]! * g[3]! - i);
}

function checkRleSize(size: unknown, where: string): [number, number] {
  if (!Array.isArray(size) || size.length !== 2 || !size.every((v) => Number.isSafeInteger(v) && v >= 0)) {
    throw new InputError(where, `RLE size ${clipJson(size)} is not [height, width] of non-negative integers`);
  }
  return [size[0] as number, size[1] as number];
}

function checkCounts(counts: unknown, where: string): number[] {
  if (!Array.isArray(counts) || !counts.every((v) => Number.isSafeInteger(v) && v >= 0)) {
    throw new InputError(where, 'uncompressed RLE counts must be a list of non-negative integers');
  }
  return counts as number[];
}

function clipJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
