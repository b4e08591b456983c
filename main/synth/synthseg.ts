/**
 * SynthSeg-style training images from REAL organ label maps (Billot et al., "SynthSeg", 2023, idea only):
 * the stomach / small bowel / large bowel masks of a real scan are kept, a procedural body is built
 * around them (wall, fat, liver, kidneys, spine, vessels as distractors), every structure gets a random
 * intensity, and the image is degraded like a scan (partial volume, bias, noise, resolution loss),
 * after one elastic deformation shared by labels and image. The network so learns organ shape and
 * context from real anatomy without ever seeing a real image.
 *
 * 2.5D: the slices i−s, i, i+s of a sample come from the real neighbouring label maps of the same scan
 * (a slice the CSV does not list has no organ, as in reality), with one appearance, body and
 * deformation shared by all three.
 */
import { ORGANS } from '../core/organs';
import type { BinaryMask, SliceImage, SliceMasks } from '../core/types';
import { createRng, type Rng } from '../model/augment/random';
import { AbdomenModel, type BodyFrame } from './anatomy';
import {
  createFractalNoise3,
  randomElasticDisplacement,
  resizeNearest,
  warpNearest,
  type Displacement,
} from './fields';
import type { LabelScan } from './label-scans';
import {
  acquire,
  createAppearance,
  randomAcquisition,
  shadeSlice,
  type Acquisition,
  type Appearance,
  type SliceGrid,
} from './render';
import { T, randomLooks, realisticLooks } from './tissues';

export interface SynthSegOptions {
  /** Output square size in pixels; the label map is stretched to it (nearest). Default: the scan's own size. */
  size?: number;
  /** mm per pixel of the real label maps (UW-Madison: 1.5). */
  pixelMm?: number;
  /** Largest elastic displacement in pixels of the output (0 = none). Default 6. */
  elasticPx?: number;
  /** Share of samples drawn with realistic TrueFISP contrast instead of random contrast. Default 0.2. */
  realisticShare?: number;
}

/** Everything fixed for one synthetic rendering of one real scan. */
export interface SynthSegScan {
  label: LabelScan;
  grid: SliceGrid;
  model: AbdomenModel;
  appearance: Appearance;
  acquisition: Acquisition;
  deformation: Displacement | null;
  /** Height (mm) of slice number 0 and mm between slices: z = z0 + number * 3. */
  z0: number;
  seed: number;
  private: { stool: ReturnType<typeof createFractalNoise3>; airY: number };
}

const SLICE_MM = 3;

interface Extent {
  xMin: number;
  xMax: number;
  yMin: number;
  yMax: number;
  /** Most posterior organ pixel near the organs' horizontal centre: the spine must lie behind it. */
  midlineYMax: number;
}

const extentCache = new WeakMap<LabelScan, Extent | null>();

/** Bounding box, in source pixel coordinates, of every organ pixel of the scan (null: no organ). */
function organPixelExtent(label: LabelScan): Extent | null {
  const cached = extentCache.get(label);
  if (cached !== undefined) return cached;
  let e: Extent | null = null;
  for (const masks of label.slices.values()) {
    for (const organ of ORGANS) {
      const m = masks[organ];
      if (!m) continue;
      for (let k = 0; k < m.data.length; k++) {
        if (!m.data[k]) continue;
        const i = k % m.width;
        const j = Math.floor(k / m.width);
        e ??= { xMin: i, xMax: i, yMin: j, yMax: j, midlineYMax: -Infinity };
        if (i < e.xMin) e.xMin = i;
        if (i > e.xMax) e.xMax = i;
        if (j < e.yMin) e.yMin = j;
        if (j > e.yMax) e.yMax = j;
      }
    }
  }
  if (e) {
    // Per slice, the most posterior organ pixel near the midline; the spine goes behind the typical
    // (70th percentile) one, not the extreme: low pelvic loops lie in front of the sacrum, far back.
    const mid = (e.xMin + e.xMax) / 2;
    const band = Math.max(8, (e.xMax - e.xMin) / 12);
    const perSlice: number[] = [];
    for (const masks of label.slices.values()) {
      let deepest = -Infinity;
      for (const organ of ORGANS) {
        const m = masks[organ];
        if (!m) continue;
        for (let k = 0; k < m.data.length; k++) {
          const j = Math.floor(k / m.width);
          if (m.data[k] && Math.abs((k % m.width) - mid) < band && j > deepest) deepest = j;
        }
      }
      if (Number.isFinite(deepest)) perSlice.push(deepest);
    }
    perSlice.sort((a, b) => a - b);
    e.midlineYMax = perSlice.length
      ? perSlice[Math.floor((perSlice.length - 1) * 0.7)]!
      : (e.yMin + e.yMax) / 2;
  }
  extentCache.set(label, e);
  return e;
}

/** The organ extent in millimetres of the output grid (nearest-neighbour stretch of the label map). */
function organExtentMm(label: LabelScan, grid: SliceGrid): Extent {
  const e = organPixelExtent(label);
  if (!e) return { xMin: -100, xMax: 100, yMin: -60, yMax: 40, midlineYMax: 20 };
  const sx = grid.width / label.width;
  const sy = grid.height / label.height;
  const x = (i: number): number => ((i + 0.5) * sx - grid.width / 2) * grid.pixelMm;
  const y = (j: number): number => ((j + 0.5) * sy - grid.height / 2) * grid.pixelMm;
  return {
    xMin: x(e.xMin),
    xMax: x(e.xMax),
    yMin: y(e.yMin),
    yMax: y(e.yMax),
    midlineYMax: y(e.midlineYMax),
  };
}

/** A body outline that encloses every real organ with room for the fat and muscle wall. */
function fitBodyFrame(rng: Rng, e: Extent, wallMm: number): BodyFrame {
  // real colon lies against the abdominal wall: only a few millimetres beyond the body wall
  const margin = (): number => wallMm + rng.uniform(2, 10);
  const cx = (e.xMin + e.xMax) / 2 + rng.uniform(-5, 5);
  const halfWidth = Math.max(cx - e.xMin, e.xMax - cx) + margin();
  const top = e.yMin - margin();
  const spineY = Math.max(e.midlineYMax + rng.uniform(20, 35), e.yMin + 60);
  const bottom = Math.max(spineY + rng.uniform(55, 70), e.yMax + margin());
  const cy = top + (bottom - top) * rng.uniform(0.45, 0.55);
  return { cx, cy, halfWidth, front: cy - top, back: bottom - cy, spineY };
}

/** Fix body, appearance, scanner and deformation for one rendering of `label`. */
export function prepareSynthSegScan(
  label: LabelScan,
  seed: number,
  opts: SynthSegOptions = {},
): SynthSegScan {
  const rng = createRng(seed);
  const srcMm = opts.pixelMm ?? 1.5;
  const width = opts.size ?? label.width;
  const height = opts.size ?? label.height;
  // square output pixels: stretch of a non-square scan is averaged into one pixel size
  const pixelMm = opts.size ? (srcMm * (label.width + label.height)) / (2 * opts.size) : srcMm;
  const grid: SliceGrid = { width, height, pixelMm };
  const fat = rng.uniform(5, 25);
  const wall = rng.uniform(5, 10);
  const frame = fitBodyFrame(rng, organExtentMm(label, grid), fat * 1.36 + wall);
  const model = new AbdomenModel(rng, {
    organs: false,
    frame,
    fatThicknessMm: fat,
    wallThicknessMm: wall,
    clutter: rng.uniform(0.03, 0.2),
  });
  const realistic = rng.next() < (opts.realisticShare ?? 0.2);
  const looks = realistic ? realisticLooks(rng) : randomLooks(rng);
  const appearance = createAppearance(rng, looks, {
    biasStrength: rng.uniform(0.1, 0.5),
    inkLine: realistic ? rng.uniform(0.3, 0.7) : rng.uniform(0, 0.7),
  });
  const acquisition = randomAcquisition(rng, true);
  const elastic = opts.elasticPx ?? 6;
  const deformation =
    elastic > 0
      ? randomElasticDisplacement(rng, width, height, rng.uniform(0.3, 1) * elastic, width / 5)
      : null;
  const first = label.numbers[0] ?? 0;
  const z0 = rng.uniform(10, 45) - first * SLICE_MM;
  const stool = createFractalNoise3(rng, 7, 2);
  const airY = rng.next() < 0.6 ? frame.cy - frame.front * rng.uniform(0.2, 0.6) : -Infinity;
  return { label, grid, model, appearance, acquisition, deformation, z0, seed, private: { stool, airY } };
}

/** The real organ masks of slice `number` in the output grid, deformed; {} when the CSV lists none. */
export function synthSegMasks(scan: SynthSegScan, number: number): SliceMasks {
  const src = scan.label.slices.get(number);
  const out: SliceMasks = {};
  if (!src) return out;
  const { width, height } = scan.grid;
  for (const organ of ORGANS) {
    const m = src[organ];
    if (!m) continue;
    let data = resizeNearest(m.data, m.width, m.height, width, height);
    if (scan.deformation) data = warpNearest(data, scan.deformation);
    if (data.some((v) => v !== 0)) out[organ] = { width, height, data } satisfies BinaryMask;
  }
  return out;
}

/** Inside pixels of a mask at least `r` pixels (4-neighbour steps) from its edge. */
function erode(mask: Uint8Array, width: number, height: number, r: number): Uint8Array {
  let cur = mask;
  for (let it = 0; it < r; it++) {
    const next = new Uint8Array(cur.length);
    for (let j = 1; j < height - 1; j++) {
      for (let i = 1; i < width - 1; i++) {
        const k = j * width + i;
        next[k] = cur[k] && cur[k - 1] && cur[k + 1] && cur[k - width] && cur[k + width] ? 1 : 0;
      }
    }
    cur = next;
  }
  return cur;
}

/** Render slice `number` of the scan: 16-bit image and its (deformed real) organ masks. */
export function renderSynthSegSlice(
  scan: SynthSegScan,
  number: number,
  noiseRng: Rng,
): { image: SliceImage & { data: Uint16Array }; masks: SliceMasks } {
  const { grid } = scan;
  const z = scan.z0 + number * SLICE_MM;
  // The procedural anatomy is deformed like the organs (whose masks come deformed) so both stay in contact.
  let tissue = scan.model.tissuesAt(z, grid);
  if (scan.deformation) tissue = warpNearest(tissue, scan.deformation);
  const masks = synthSegMasks(scan, number);
  makeRoomForOrgans(tissue, masks, grid);
  // The real organs overwrite the procedural anatomy; their wall is a 1–2 px rim, their lumen has
  // contents (stomach air rises anteriorly, stool is mottled with gas).
  const order = ['small_bowel', 'large_bowel', 'stomach'] as const;
  for (const organ of order) {
    const m = masks[organ];
    if (!m) continue;
    const inner = erode(m.data, grid.width, grid.height, 2);
    for (let k = 0; k < m.data.length; k++) {
      if (!m.data[k]) continue;
      const x = ((k % grid.width) + 0.5 - grid.width / 2) * grid.pixelMm;
      const y = (Math.floor(k / grid.width) + 0.5 - grid.height / 2) * grid.pixelMm;
      if (organ === 'stomach') {
        tissue[k] = !inner[k] ? T.stomach_wall : y < scan.private.airY ? T.stomach_air : T.stomach_content;
      } else if (organ === 'large_bowel') {
        tissue[k] = !inner[k]
          ? T.colon_wall
          : scan.private.stool(x, y, z) > 0.45
            ? T.colon_air
            : T.colon_stool;
      } else {
        tissue[k] = !inner[k] ? T.small_bowel_wall : T.small_bowel_content;
      }
    }
  }
  const shaded = shadeSlice(scan.appearance, tissue, grid, z);
  return {
    image: {
      width: grid.width,
      height: grid.height,
      data: acquire(shaded, grid, scan.acquisition, noiseRng),
    },
    masks,
  };
}

/** Square dilation by r pixels (row pass then column pass). */
function dilate(mask: Uint8Array, width: number, height: number, r: number): Uint8Array {
  const rows = new Uint8Array(mask.length);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      if (!mask[j * width + i]) continue;
      for (let ii = Math.max(0, i - r); ii <= Math.min(width - 1, i + r); ii++) rows[j * width + ii] = 1;
    }
  }
  const out = new Uint8Array(mask.length);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      if (!rows[j * width + i]) continue;
      for (let jj = Math.max(0, j - r); jj <= Math.min(height - 1, j + r); jj++) out[jj * width + i] = 1;
    }
  }
  return out;
}

const LIVER_SIDE = new Set<number>([T.liver, T.hepatic_vessel, T.gallbladder]);
const MOVABLE = new Set<number>([
  T.liver,
  T.hepatic_vessel,
  T.gallbladder,
  T.spleen,
  T.pancreas,
  T.kidney_cortex,
  T.kidney_medulla,
  T.clutter,
]);

/**
 * Solid distractors give way to the real organs instead of surrounding them: the liver (patient right,
 * image left) stops before the leftmost organ pixel of each row, the spleen (image right) after the
 * rightmost, and a thin rim of fat separates every organ from solid tissue, as mesenteric fat does.
 */
function makeRoomForOrgans(tissue: Uint8Array, masks: SliceMasks, grid: SliceGrid): void {
  const { width, height, pixelMm } = grid;
  const union = new Uint8Array(width * height);
  for (const o of ORGANS) {
    const m = masks[o];
    if (m) for (let k = 0; k < union.length; k++) union[k] ||= m.data[k]!;
  }
  const gap = Math.max(1, Math.round(5 / pixelMm));
  const rim = dilate(union, width, height, Math.max(1, Math.round(3 / pixelMm)));
  const first = new Float64Array(height).fill(Infinity);
  const last = new Float64Array(height).fill(-Infinity);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      if (!union[j * width + i]) continue;
      if (first[j] === Infinity) first[j] = i;
      last[j] = i;
    }
  }
  // The liver's edge is the lower envelope of parabolas under each organ row, so the cut has rounded
  // ends instead of steps; the spleen's likewise from the other side.
  const reach = Math.round(25 / pixelMm);
  const bend = 0.5;
  const liverEdge = new Float64Array(height).fill(Infinity);
  const spleenEdge = new Float64Array(height).fill(-Infinity);
  for (let j = 0; j < height; j++) {
    for (let r = Math.max(0, j - reach); r <= Math.min(height - 1, j + reach); r++) {
      const curve = bend * (j - r) * (j - r);
      liverEdge[j] = Math.min(liverEdge[j]!, first[r]! - gap + curve);
      spleenEdge[j] = Math.max(spleenEdge[j]!, last[r]! + gap - curve);
    }
  }
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const k = j * width + i;
      const t = tissue[k]!;
      if (!MOVABLE.has(t)) continue;
      const blocked =
        rim[k] || (LIVER_SIDE.has(t) && i > liverEdge[j]!) || (t === T.spleen && i < spleenEdge[j]!);
      if (blocked) tissue[k] = T.visceral_fat;
    }
  }
}

export interface SynthSegSample {
  /** Real slice the sample is built on, `caseN_dayD_slice_NNNN`. */
  sourceId: string;
  /** Slices i−stride, i, i+stride (16-bit, like a PNG read from disk). */
  slices: Array<SliceImage & { data: Uint16Array }>;
  /** Organ masks of the centre slice. */
  masks: SliceMasks;
  pixelMm: number;
}

export interface SynthSegSourceOptions extends SynthSegOptions {
  seed: number;
  /** Only scans of these patients (`caseN`); e.g. the training split. */
  patients?: readonly string[];
  /** 2.5D slice offset (default 2: channels i−2, i, i+2). */
  sliceStride?: number;
}

/** An endless, seeded stream of 2.5D SynthSeg samples for a training loop to pull from. */
export function createSynthSegSource(
  scans: readonly LabelScan[],
  opts: SynthSegSourceOptions,
): { next(): SynthSegSample } {
  const pool = opts.patients ? scans.filter((s) => opts.patients!.includes(s.patientId)) : [...scans];
  if (pool.length === 0) throw new RangeError('createSynthSegSource: no label scans for the chosen patients');
  const rng = createRng(opts.seed);
  const stride = opts.sliceStride ?? 2;
  return {
    next(): SynthSegSample {
      const label = pool[rng.int(pool.length)]!;
      const scan = prepareSynthSegScan(label, rng.seed(), opts);
      const centre = label.numbers[rng.int(label.numbers.length)]!;
      const noise = createRng(rng.seed());
      const rendered = [centre - stride, centre, centre + stride].map((n) =>
        renderSynthSegSlice(scan, n, noise),
      );
      return {
        sourceId: `${label.scanId}_slice_${String(centre).padStart(4, '0')}`,
        slices: rendered.map((r) => r.image),
        masks: rendered[1]!.masks,
        pixelMm: scan.grid.pixelMm,
      };
    },
  };
}
