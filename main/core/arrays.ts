/** Whole-array scans over pixel values, shared by loaders, the model and the viewer (pure). */

/** Smallest and largest value; [0, 0] for an empty array. */
export function minMax(data: ArrayLike<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return data.length ? [min, max] : [0, 0];
}

function isIntegerArray(values: ArrayLike<number>): boolean {
  return (
    values instanceof Uint8Array ||
    values instanceof Uint8ClampedArray ||
    values instanceof Uint16Array ||
    values instanceof Int16Array ||
    values instanceof Int8Array ||
    values instanceof Uint32Array ||
    values instanceof Int32Array
  );
}

/** Min, max and whether every value is an integer (which storage type fits, which histogram is exact). */
export function measureValues(values: ArrayLike<number>): { min: number; max: number; integral: boolean } {
  // An integer typed array holds integers only: no per-value test (this runs on every slice segmented).
  if (isIntegerArray(values)) {
    const [min, max] = values.length ? minMax(values) : [Infinity, -Infinity];
    return { min, max, integral: true };
  }
  let min = Infinity;
  let max = -Infinity;
  let integral = true;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
    if (integral && !Number.isInteger(v)) integral = false;
  }
  return { min, max, integral };
}

/**
 * A search for the next non-zero byte of `data`: `next(from, end)` is the first index in [from, end) whose
 * byte is not 0, else `end`. Masks are mostly zero (an organ covers a small part of a slice), so whole
 * zero words are skipped four bytes at a time: counting and run-length encoding a mask then costs about
 * its organ pixels, not its size.
 */
export function nonZeroSearch(data: Uint8Array): (from: number, end?: number) => number {
  // Bytes before the first 4-byte boundary of the buffer, then the whole words after it.
  const lead = Math.min(data.length, (4 - (data.byteOffset & 3)) & 3);
  const wordCount = (data.length - lead) >> 2;
  const words = wordCount > 0 ? new Uint32Array(data.buffer, data.byteOffset + lead, wordCount) : null;
  return (from, end = data.length) => {
    let i = Math.max(0, from);
    while (i < end) {
      if (words && i >= lead && ((i - lead) & 3) === 0) {
        let w = (i - lead) >> 2;
        const stop = Math.min(wordCount, Math.floor((end - lead) / 4));
        while (w < stop && words[w] === 0) w++;
        if (w * 4 + lead > i) {
          i = w * 4 + lead;
          continue;
        }
      }
      if (data[i] !== 0) return i;
      i++;
    }
    return end;
  };
}

/** Number of non-zero bytes. */
export function countNonZero(data: Uint8Array): number {
  const next = nonZeroSearch(data);
  let n = 0;
  for (let i = next(0); i < data.length; i = next(i)) {
    while (i < data.length && data[i] !== 0) {
      n++;
      i++;
    }
  }
  return n;
}
