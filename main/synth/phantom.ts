/**
 * Seeded abdomen-like MRI phantoms: 16-bit slices with exact stomach / small bowel / large bowel masks.
 * Same seed and options → identical pixels, so demo data and tests are reproducible.
 */
import { createRng, type Rng } from '../model/augment/random';
import { ORGANS, type Organ } from '../core/organs';
import type { BinaryMask, SliceImage, SliceMasks } from '../core/types';
import { AbdomenModel, type BodyFrame } from './anatomy';
import { acquire, createAppearance, randomAcquisition, shadeSlice, type SliceGrid } from './render';
import { realisticLooks, T } from './tissues';

export interface PhantomOptions {
  slices: number;
  width: number;
  height: number;
  /** Distance between slices, mm (UW-Madison: 3). */
  sliceSpacingMm?: number;
  /** Field of view across the width, mm (UW-Madison 266 px × 1.5 mm ≈ 400). */
  fovMm?: number;
}

export interface PhantomScan {
  images: Array<SliceImage & { data: Uint16Array }>;
  masks: SliceMasks[];
  /** mm per pixel. */
  pixelMm: number;
  /** Height z (mm below the liver dome) of each slice. */
  zMm: number[];
}

const TISSUES_OF: Record<Organ, number[]> = {
  large_bowel: [T.colon_wall, T.colon_stool, T.colon_air],
  small_bowel: [T.small_bowel_wall, T.small_bowel_content],
  stomach: [T.stomach_wall, T.stomach_content, T.stomach_air],
};

/** Organ masks of a tissue map; organs with no pixel are left out, as in SliceMasks. */
export function organMasksOf(tissue: Uint8Array, width: number, height: number): SliceMasks {
  const masks: SliceMasks = {};
  for (const organ of ORGANS) {
    const wanted = new Set(TISSUES_OF[organ]);
    const data = new Uint8Array(tissue.length);
    let any = false;
    for (let k = 0; k < tissue.length; k++) {
      if (wanted.has(tissue[k]!)) {
        data[k] = 1;
        any = true;
      }
    }
    if (any) masks[organ] = { width, height, data } satisfies BinaryMask;
  }
  return masks;
}

/** Where the slab of slices sits: the whole abdomen if it fits, else a window where all three organs meet. */
function sliceHeights(patient: Rng, day: Rng, slices: number, spacing: number): number[] {
  const abdomen: [number, number] = [10, 340];
  const extent = (slices - 1) * spacing;
  let start: number;
  if (extent >= abdomen[1] - abdomen[0]) start = (abdomen[0] + abdomen[1] - extent) / 2;
  else {
    // the patient decides the level; each day's positioning shifts it by a few millimetres
    const centre = patient.uniform(140, 190) + day.uniform(-6, 6);
    start = Math.min(abdomen[1] - extent, Math.max(abdomen[0], centre - extent / 2));
  }
  return Array.from({ length: slices }, (_, i) => start + i * spacing);
}

function checkOptions(opts: PhantomOptions): void {
  for (const key of ['slices', 'width', 'height'] as const) {
    const v = opts[key];
    if (!Number.isInteger(v) || v < 1)
      throw new RangeError(`phantom ${key} must be a positive integer, got ${v}`);
  }
  if (opts.width < 16 || opts.height < 16)
    throw new RangeError('phantom slices must be at least 16×16 pixels');
}

/** Draw the patient and the day from separate streams so two days of one patient share anatomy. */
export function generatePhantomScan(
  seed: number,
  opts: PhantomOptions,
  patient?: { seed: number; frame?: BodyFrame },
): PhantomScan {
  checkOptions(opts);
  const dayRng = createRng(seed);
  const patientRng = createRng(patient?.seed ?? seed ^ 0x5eed);
  const model = new AbdomenModel(patientRng, {
    organs: true,
    dayRng,
    ...(patient?.frame ? { frame: patient.frame } : {}),
  });
  const pixelMm = (opts.fovMm ?? 399) / opts.width;
  const grid: SliceGrid = { width: opts.width, height: opts.height, pixelMm };
  const appearance = createAppearance(dayRng, realisticLooks(dayRng), {
    biasStrength: dayRng.uniform(0.1, 0.3),
    inkLine: dayRng.uniform(0.3, 0.7),
  });
  const acquisition = randomAcquisition(dayRng, false);
  const zMm = sliceHeights(patientRng, dayRng, opts.slices, opts.sliceSpacingMm ?? 3);
  const images: PhantomScan['images'] = [];
  const masks: SliceMasks[] = [];
  for (const z of zMm) {
    const tissue = model.tissuesAt(z, grid);
    masks.push(organMasksOf(tissue, opts.width, opts.height));
    const shaded = shadeSlice(appearance, tissue, grid, z);
    images.push({ width: opts.width, height: opts.height, data: acquire(shaded, grid, acquisition, dayRng) });
  }
  return { images, masks, pixelMm, zMm };
}
