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
