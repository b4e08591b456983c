/**
 * The plain image type augmentation works on: row-major, channels interleaved (HWC), the layout a
 * tfjs `[height, width, channels]` tensor has, so batches are built by copying without reordering.
 */
export interface Planes {
  width: number;
  height: number;
  channels: number;
  data: Float32Array;
}

export function createPlanes(width: number, height: number, channels: number): Planes {
  return { width, height, channels, data: new Float32Array(width * height * channels) };
}

export function clonePlanes(p: Planes): Planes {
  return { width: p.width, height: p.height, channels: p.channels, data: new Float32Array(p.data) };
}
