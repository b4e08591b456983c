/**
 * 3-D Hausdorff distance between two binary volumes, exact (Euclidean distance transforms, not sampling).
 * Voxels are unit cubes: slice step 1, pixel step 1, as the UW-Madison competition metric stacks slices.
 */
import { squaredDistanceToMask, type Dims3 } from './edt';

interface Box {
  z0: number;
  z1: number;
  y0: number;
  y1: number;
  x0: number;
  x1: number;
}

/**
 * Symmetric Hausdorff distance (max of both directed distances) in voxel units between the voxels of `a` and
 * `b` (binary volumes: 0 outside, 1 inside, as BinaryMask); `null` when both are empty, `Infinity` when exactly one is.
 *
 * Each directed distance is the largest distance-transform value of one mask over ALL voxels of the other, not
 * only its boundary: the farthest point can lie inside a region (a mask filling the hole of a ring).
 * Both transforms run on the bounding box of a ∪ b only, which is exact (every nearest voxel lies in it) and
 * turns a 144-slice volume into the organ's few million voxels.
 */
export function hausdorffDistance3d(a: Uint8Array, b: Uint8Array, dims: Dims3): number | null {
  const n = dims.depth * dims.height * dims.width;
  if (a.length !== n || b.length !== n) throw new RangeError(`volumes must have ${n} voxels`);
  const boxA = boundingBox(a, dims);
  const boxB = boundingBox(b, dims);
  if (!boxA && !boxB) return null;
  if (!boxA || !boxB) return Infinity;
  const box: Box = {
    z0: Math.min(boxA.z0, boxB.z0),
    z1: Math.max(boxA.z1, boxB.z1),
    y0: Math.min(boxA.y0, boxB.y0),
    y1: Math.max(boxA.y1, boxB.y1),
    x0: Math.min(boxA.x0, boxB.x0),
    x1: Math.max(boxA.x1, boxB.x1),
  };
  const cropDims: Dims3 = {
    depth: box.z1 - box.z0 + 1,
    height: box.y1 - box.y0 + 1,
    width: box.x1 - box.x0 + 1,
  };
  const cropA = crop(a, dims, box, cropDims);
  const cropB = crop(b, dims, box, cropDims);
  const worst = Math.max(
    maxWhere(squaredDistanceToMask(cropA, cropDims), cropB),
    maxWhere(squaredDistanceToMask(cropB, cropDims), cropA),
  );
  return Math.sqrt(worst);
}

/**
 * The competition's normalised form: Hausdorff distance divided by the volume diagonal √(D² + H² + W²),
 * 1 when exactly one side is empty, `null` (not scored) when both are.
 */
export function normalisedHausdorff3d(a: Uint8Array, b: Uint8Array, dims: Dims3): number | null {
  const h = hausdorffDistance3d(a, b, dims);
  if (h === null) return null;
  if (h === Infinity) return 1;
  return h / Math.hypot(dims.depth, dims.height, dims.width);
}

function maxWhere(values: Float64Array, where: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < where.length; i++) if (where[i] !== 0 && values[i]! > max) max = values[i]!;
  return max;
}

/** Box of the voxels equal to 1; native indexOf skips the empty space (most of a scan) at memchr speed. */
function boundingBox(mask: Uint8Array, { height, width }: Dims3): Box | undefined {
  let i = mask.indexOf(1);
  if (i < 0) return undefined;
  const plane = height * width;
  const box: Box = { z0: Infinity, z1: -1, y0: Infinity, y1: -1, x0: Infinity, x1: -1 };
  while (i >= 0) {
    const z = Math.floor(i / plane);
    const y = Math.floor((i - z * plane) / width);
    const rowStart = z * plane + y * width;
    const x = i - rowStart;
    // Last voxel of this run within the row: the next voxel to look at comes after it.
    let end = i;
    const rowEnd = rowStart + width;
    while (end + 1 < rowEnd && mask[end + 1] === 1) end++;
    if (z < box.z0) box.z0 = z;
    if (z > box.z1) box.z1 = z;
    if (y < box.y0) box.y0 = y;
    if (y > box.y1) box.y1 = y;
    if (x < box.x0) box.x0 = x;
    if (end - rowStart > box.x1) box.x1 = end - rowStart;
    i = mask.indexOf(1, end + 1);
  }
  return box;
}

function crop(mask: Uint8Array, dims: Dims3, box: Box, out: Dims3): Uint8Array {
  const result = new Uint8Array(out.depth * out.height * out.width);
  let o = 0;
  for (let z = box.z0; z <= box.z1; z++) {
    for (let y = box.y0; y <= box.y1; y++) {
      const start = (z * dims.height + y) * dims.width + box.x0;
      result.set(mask.subarray(start, start + out.width), o);
      o += out.width;
    }
  }
  return result;
}
