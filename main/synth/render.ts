/**
 * From a map of tissue labels to an MR-like image: per-tissue intensity with 3D texture, the dark
 * fat/water boundary line of TrueFISP, coil bias field, partial-volume blur, resolution loss and
 * Rician noise, then scaling to the 16-bit range the scanner writes.
 * Everything that must agree between neighbouring slices (contrast, texture, bias) is a function of
 * (x, y, z) in millimetres, so slices rendered separately stay consistent.
 */
import type { Rng } from '../model/augment/random';
import { createFractalNoise3, createValueNoise3, gaussianBlur, resizeBilinear, type Noise3 } from './fields';
import { FAT_TISSUES, T, type TissueLook } from './tissues';

/** Pixel grid of a slice in millimetres, centred on the field of view. */
export interface SliceGrid {
  width: number;
  height: number;
  /** mm per pixel (square pixels). */
  pixelMm: number;
}

export function pixelToMm(grid: SliceGrid, i: number, j: number): [x: number, y: number] {
  return [(i + 0.5 - grid.width / 2) * grid.pixelMm, (j + 0.5 - grid.height / 2) * grid.pixelMm];
}

/** What stays fixed across all slices of one synthetic scan. */
export interface Appearance {
  looks: TissueLook[];
  textures: Noise3[];
  bias: Noise3;
  /** Bias amplitude: the image is multiplied by exp(biasStrength * bias). */
  biasStrength: number;
  /** How much the fat/water boundary is darkened (0 none, 1 black). */
  inkLine: number;
}

export function createAppearance(
  rng: Rng,
  looks: TissueLook[],
  opts: { biasStrength: number; inkLine: number },
): Appearance {
  return {
    looks,
    textures: looks.map((l) => createFractalNoise3(rng, l.grain * 2, 2)),
    bias: createValueNoise3(rng, 180),
    biasStrength: opts.biasStrength,
    inkLine: opts.inkLine,
  };
}

/** Per-pixel intensity of the tissue map at height z (mm), before acquisition effects. */
export function shadeSlice(app: Appearance, tissue: Uint8Array, grid: SliceGrid, zMm: number): Float32Array {
  const { width, height } = grid;
  const out = new Float32Array(width * height);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const k = j * width + i;
      const t = tissue[k]!;
      if (t === T.background) continue;
      const [x, y] = pixelToMm(grid, i, j);
      const look = app.looks[t]!;
      const tex = 1 + look.texture * 1.7 * app.textures[t]!(x, y, zMm);
      const bias = Math.exp(app.biasStrength * app.bias(x, y, zMm));
      let v = Math.max(0, look.mean * tex) * bias;
      if (app.inkLine > 0 && isFatWaterEdge(tissue, width, height, i, j)) v *= 1 - app.inkLine;
      out[k] = v;
    }
  }
  return out;
}

/** A fat pixel touching a non-fat, non-air pixel (4-neighbourhood). */
function isFatWaterEdge(tissue: Uint8Array, width: number, height: number, i: number, j: number): boolean {
  if (!FAT_TISSUES.has(tissue[j * width + i]!)) return false;
  const k = j * width + i;
  return (
    (i > 0 && isWater(tissue[k - 1]!)) ||
    (i < width - 1 && isWater(tissue[k + 1]!)) ||
    (j > 0 && isWater(tissue[k - width]!)) ||
    (j < height - 1 && isWater(tissue[k + width]!))
  );
}

function isWater(t: number): boolean {
  return t !== T.background && !FAT_TISSUES.has(t);
}

/** The scanner side of synthesis, drawn per scan. */
export interface Acquisition {
  /** Partial-volume blur, pixels. */
  blurPx: number;
  /** Acquired resolution as a fraction of the output (1 = none, 0.5 = acquired at half and upsampled). */
  resolution: number;
  /** Noise in tissue: standard deviation relative to the local signal. */
  noise: number;
  /** Thermal noise floor (Rician in air), relative to fat = 1. Real UW-Madison air is almost 0
   * (raw16/test_image14.png: mean 3, sd 6 at a fat level of ~9000, i.e. ≈ 0.001). */
  floor: number;
  /** Stored value of fat (the 16-bit scale of this scan). */
  peak: number;
}

export function randomAcquisition(rng: Rng, strong: boolean): Acquisition {
  return {
    blurPx: rng.uniform(0.4, strong ? 1.3 : 0.8),
    resolution: strong ? rng.uniform(0.45, 1) : rng.uniform(0.75, 1),
    noise: strong ? rng.uniform(0.01, 0.08) : rng.uniform(0.02, 0.05),
    floor: strong ? rng.uniform(0.0005, 0.01) : rng.uniform(0.0005, 0.002),
    // raw16/test_image14.png: 99th percentile ≈ 8600 with fat the brightest tissue.
    peak: rng.uniform(1500, 12000),
  };
}

/** Blur, resolution loss, Rician noise and 16-bit scaling of one shaded slice. */
export function acquire(img: Float32Array, grid: SliceGrid, acq: Acquisition, rng: Rng): Uint16Array {
  const { width, height } = grid;
  let x = gaussianBlur(img, width, height, acq.blurPx);
  if (acq.resolution < 0.99) {
    const lw = Math.max(8, Math.round(width * acq.resolution));
    const lh = Math.max(8, Math.round(height * acq.resolution));
    x = resizeBilinear(resizeBilinear(x, width, height, lw, lh), lw, lh, width, height);
  }
  const out = new Uint16Array(width * height);
  for (let k = 0; k < x.length; k++) {
    // Rician: magnitude of a complex signal with Gaussian noise on both channels; the in-tissue
    // part scales with the signal (reconstructed MR-Linac images are near 0 in air, grainy in tissue).
    const sd = acq.floor + acq.noise * x[k]!;
    const re = x[k]! + sd * rng.normal();
    const im = acq.floor * rng.normal();
    const v = Math.sqrt(re * re + im * im) * acq.peak;
    out[k] = Math.min(65535, Math.round(v));
  }
  return out;
}
