/**
 * Coronal and sagittal reformats of a stack of axial slices, and the linked crosshair between the three
 * views. The grey volume arrives downsampled in-plane (see the `scan:volume` call); a reformat is made at
 * the scan's full in-plane size by nearest sampling, so the organ masks (full size) line up pixel for pixel.
 *
 * Coordinates: (x, y) are scan pixel column and row, z the slice index. A reformat's image has the in-plane
 * axis horizontal (x for coronal, y for sagittal) and one row per slice; `reversed` draws the last slice
 * on top (so the head is up whatever the stacking order).
 */
import type { VolumeWire } from '../../preload/api';
import { base64ToBytes } from '../../preload/wire';
import type { WindowLevel } from './window-level';

export type ReformatPlane = 'coronal' | 'sagittal';

/** A quantised volume: stored value = offset + q × scale for each byte q (x fastest, then y, then z). */
export interface Volume8 {
  width: number;
  height: number;
  depth: number;
  data: Uint8Array;
  offset: number;
  scale: number;
}

export function decodeVolume(wire: VolumeWire): Volume8 {
  const data = base64ToBytes(wire.data);
  if (data.length !== wire.width * wire.height * wire.depth) {
    throw new Error(`volume of ${wire.width}×${wire.height}×${wire.depth} came with ${data.length} bytes`);
  }
  return { ...wire, data };
}

/** The same window in the volume's quantised units, so reformats and the axial slice look alike. */
export function quantisedWindow(wl: WindowLevel, volume: Pick<Volume8, 'offset' | 'scale'>): WindowLevel {
  const scale = volume.scale > 0 ? volume.scale : 1;
  return { level: (wl.level - volume.offset) / scale, width: wl.width / scale };
}

export interface PlaneSize {
  width: number;
  height: number;
}

export function planeSize(plane: ReformatPlane, scanW: number, scanH: number, depth: number): PlaneSize {
  return { width: plane === 'coronal' ? scanW : scanH, height: depth };
}

/** Slice index shown on row `row` of a reformat, and (the same map, it is its own inverse) back. */
export function sliceOfRow(row: number, depth: number, reversed: boolean): number {
  return reversed ? depth - 1 - row : row;
}

/**
 * The grey reformat through scan row `index` (coronal) or column `index` (sagittal), `scanW` × depth or
 * `scanH` × depth quantised values.
 */
export function reformatVolume(
  volume: Volume8,
  scanW: number,
  scanH: number,
  plane: ReformatPlane,
  index: number,
  reversed: boolean,
): Uint8Array {
  const { width, height } = planeSize(plane, scanW, scanH, volume.depth);
  const out = new Uint8Array(width * height);
  const fx = volume.width / scanW;
  const fy = volume.height / scanH;
  const fixed =
    plane === 'coronal'
      ? Math.min(volume.height - 1, Math.floor((clamp(index, scanH) + 0.5) * fy))
      : Math.min(volume.width - 1, Math.floor((clamp(index, scanW) + 0.5) * fx));
  // Source position along the horizontal axis of the reformat, per output column.
  const along = new Int32Array(width);
  for (let u = 0; u < width; u++) {
    along[u] =
      plane === 'coronal'
        ? Math.min(volume.width - 1, Math.floor((u + 0.5) * fx))
        : Math.min(volume.height - 1, Math.floor((u + 0.5) * fy));
  }
  const slab = volume.width * volume.height;
  for (let r = 0; r < height; r++) {
    const z = sliceOfRow(r, volume.depth, reversed);
    const base = z * slab;
    for (let u = 0; u < width; u++) {
      out[r * width + u] =
        plane === 'coronal'
          ? volume.data[base + fixed * volume.width + along[u]!]!
          : volume.data[base + along[u]! * volume.width + fixed]!;
    }
  }
  return out;
}

/** One organ's masks (one per slice, undefined = empty) cut along the same plane as reformatVolume. */
export function reformatMasks(
  masks: ReadonlyArray<Uint8Array | undefined>,
  scanW: number,
  scanH: number,
  plane: ReformatPlane,
  index: number,
  reversed: boolean,
): Uint8Array {
  const depth = masks.length;
  const { width, height } = planeSize(plane, scanW, scanH, depth);
  const out = new Uint8Array(width * height);
  const fixed = clamp(index, plane === 'coronal' ? scanH : scanW);
  for (let r = 0; r < height; r++) {
    const m = masks[sliceOfRow(r, depth, reversed)];
    if (!m) continue;
    for (let u = 0; u < width; u++) {
      out[r * width + u] = plane === 'coronal' ? m[fixed * scanW + u]! : m[u * scanW + fixed]!;
    }
  }
  return out;
}

/** Millimetres between slice centres: the median step of the known positions, else `fallback`. */
export function sliceStepMm(positions: ReadonlyArray<number | null>, fallback: number | null): number | null {
  const steps: number[] = [];
  for (let i = 1; i < positions.length; i++) {
    const a = positions[i - 1];
    const b = positions[i];
    if (a !== null && a !== undefined && b !== null && b !== undefined && a !== b)
      steps.push(Math.abs(b - a));
  }
  if (steps.length === 0) return fallback !== null && fallback > 0 ? fallback : null;
  steps.sort((p, q) => p - q);
  return steps[Math.floor(steps.length / 2)]!;
}

/**
 * Height on screen of one reformat row relative to one in-plane pixel: slice step ÷ in-plane spacing
 * (3 mm slices of 1.5 mm pixels are drawn 2 pixels tall). 1 when either is unknown.
 */
export function rowAspect(stepMm: number | null, pixelMm: number | null): number {
  return stepMm !== null && pixelMm !== null && stepMm > 0 && pixelMm > 0 ? stepMm / pixelMm : 1;
}

/** The crosshair: a point of the scan (x column, y row, z slice). */
export interface CrossPoint {
  x: number;
  y: number;
  z: number;
}

/**
 * Where a click on a view puts the crosshair: (u, v) are the clicked image coordinates (v in reformat rows
 * for coronal and sagittal). The other coordinate stays where it was.
 */
export function pointFromView(
  plane: 'axial' | ReformatPlane,
  u: number,
  v: number,
  current: CrossPoint,
  size: { width: number; height: number; depth: number },
  reversed: boolean,
): CrossPoint {
  const x = (n: number) => clamp(n, size.width);
  const y = (n: number) => clamp(n, size.height);
  const z = (row: number) => sliceOfRow(clamp(row, size.depth), size.depth, reversed);
  if (plane === 'axial') return { x: x(u), y: y(v), z: current.z };
  if (plane === 'coronal') return { x: x(u), y: current.y, z: z(v) };
  return { x: current.x, y: y(u), z: z(v) };
}

/**
 * The crosshair lines on a view, in that view's image coordinates (pixel centres): `u` is the vertical
 * line's position, `v` the horizontal line's.
 */
export function crosshairOnView(
  plane: 'axial' | ReformatPlane,
  p: CrossPoint,
  depth: number,
  reversed: boolean,
): { u: number; v: number } {
  const row = sliceOfRow(p.z, depth, reversed) + 0.5;
  if (plane === 'axial') return { u: p.x + 0.5, v: p.y + 0.5 };
  if (plane === 'coronal') return { u: p.x + 0.5, v: row };
  return { u: p.y + 0.5, v: row };
}

function clamp(n: number, size: number): number {
  return Math.max(0, Math.min(size - 1, Math.floor(n)));
}
