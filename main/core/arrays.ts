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

/** Min, max and whether every value is an integer (which storage type fits, which histogram is exact). */
export function measureValues(values: ArrayLike<number>): { min: number; max: number; integral: boolean } {
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
