/**
 * Deformable registration of organ label maps (2D, one slice): a displacement field that moves the
 * organs of a "moving" slice onto those of a "fixed" label map. Used to transplant a real image onto the
 * real organ shapes of another patient (main/synth/transplant.ts).
 *
 * Method: Thirion's demons on the organs' blurred masks (each organ a channel; an organ drives the field
 * only where both slices have it), on a grid `factor` times coarser than the image, blur coarse to fine
 * so distant organs still attract, the field smoothed by a Gaussian after every step (diffusion
 * regularisation) and capped in length, then upsampled to the image. Pure: typed arrays in, field out.
 */
import { countNonZero } from '../core/arrays';
import { gaussianBlur as gaussianBlurInPlace } from '../model/augment/geometry';
import { gaussianBlur, resizeBilinear, warpBilinear, type Displacement } from './fields';

export interface RegisterOptions {
  /** Coarse-grid factor (pixels of the image per coarse pixel). Default 4. */
  factor?: number;
  /** Demons steps per blur level. Default 40. */
  iterations?: number;
  /** Blur of the organ masks per level, in coarse pixels, coarse to fine. Default [6, 3, 1.5, 0.75]. */
  blurs?: readonly number[];
  /** Gaussian smoothing of the field after each step, in coarse pixels. Default 0.75. */
  fieldSigma?: number;
  /** Longest displacement allowed, in image pixels. Default a quarter of the smaller side. */
  maxPx?: number;
}

/** Pixels an organ needs on both slices to drive the field: a speck is no shape. */
const MIN_PIXELS = 12;

/** Mask → coarse float image: blurred at the image scale first (anti-aliasing), then resampled. */
function coarseChannel(
  mask: Uint8Array,
  w: number,
  h: number,
  cw: number,
  ch: number,
  factor: number,
): Float32Array {
  const f = Float32Array.from(mask, (v) => (v ? 1 : 0));
  return resizeBilinear(gaussianBlur(f, w, h, factor / 2), w, h, cw, ch);
}

/**
 * The field (in image pixels) such that `moving` warped by it (output pixel x takes the moving value at
 * x + d(x)) matches `fixed`. `moving[k]` and `fixed[k]` are the same organ's masks (0/1, width × height);
 * pairs where either side has (almost) no pixels are ignored. With no usable pair the field is zero.
 */
export function registerMasks(
  moving: readonly Uint8Array[],
  fixed: readonly Uint8Array[],
  width: number,
  height: number,
  opts: RegisterOptions = {},
): Displacement {
  if (moving.length !== fixed.length) throw new RangeError('registerMasks: one fixed mask per moving mask');
  for (const m of [...moving, ...fixed]) {
    if (m.length !== width * height) throw new RangeError('registerMasks: a mask is not width × height');
  }
  const factor = opts.factor ?? 4;
  const iterations = opts.iterations ?? 40;
  const blurs = opts.blurs ?? [6, 3, 1.5, 0.75];
  const fieldSigma = opts.fieldSigma ?? 0.75;
  const maxCoarse = (opts.maxPx ?? Math.min(width, height) / 4) / factor;
  const cw = Math.max(2, Math.round(width / factor));
  const ch = Math.max(2, Math.round(height / factor));
  const n = cw * ch;
  const ux = new Float32Array(n);
  const uy = new Float32Array(n);
  const pairs = moving.flatMap((m, k) =>
    countNonZero(m) >= MIN_PIXELS && countNonZero(fixed[k]!) >= MIN_PIXELS
      ? [
          {
            m: coarseChannel(m, width, height, cw, ch, factor),
            f: coarseChannel(fixed[k]!, width, height, cw, ch, factor),
          },
        ]
      : [],
  );
  if (pairs.length > 0) {
    const field: Displacement = { width: cw, height: ch, dx: ux, dy: uy };
    const nx = new Float32Array(n);
    const ny = new Float32Array(n);
    const den = new Float32Array(n);
    for (const blur of blurs) {
      const level = pairs.map(({ m, f }) => {
        const mb = new Float32Array(m);
        const fb = new Float32Array(f);
        gaussianBlurInPlace(mb, cw, ch, blur);
        gaussianBlurInPlace(fb, cw, ch, blur);
        return { m: mb, f: fb };
      });
      for (let it = 0; it < iterations; it++) {
        nx.fill(0);
        ny.fill(0);
        den.fill(0);
        for (const { m, f } of level) {
          const w = warpBilinear(m, field);
          for (let y = 0; y < ch; y++) {
            for (let x = 0; x < cw; x++) {
              const i = y * cw + x;
              const gx = (w[x < cw - 1 ? i + 1 : i]! - w[x > 0 ? i - 1 : i]!) / 2;
              const gy = (w[y < ch - 1 ? i + cw : i]! - w[y > 0 ? i - cw : i]!) / 2;
              const d = w[i]! - f[i]!;
              nx[i] = nx[i]! + d * gx;
              ny[i] = ny[i]! + d * gy;
              den[i] = den[i]! + gx * gx + gy * gy + d * d;
            }
          }
        }
        // normalised demons step: at most about half a coarse pixel, zero where nothing differs
        for (let i = 0; i < n; i++) {
          const q = den[i]! > 1e-9 ? 1 / den[i]! : 0;
          ux[i] = ux[i]! - nx[i]! * q;
          uy[i] = uy[i]! - ny[i]! * q;
        }
        gaussianBlurInPlace(ux, cw, ch, fieldSigma);
        gaussianBlurInPlace(uy, cw, ch, fieldSigma);
        for (let i = 0; i < n; i++) {
          const len = Math.hypot(ux[i]!, uy[i]!);
          if (len > maxCoarse) {
            ux[i] = (ux[i]! * maxCoarse) / len;
            uy[i] = (uy[i]! * maxCoarse) / len;
          }
        }
      }
    }
  }
  const sx = width / cw;
  const sy = height / ch;
  const dx = resizeBilinear(ux, cw, ch, width, height);
  const dy = resizeBilinear(uy, cw, ch, width, height);
  for (let i = 0; i < dx.length; i++) {
    dx[i] = dx[i]! * sx;
    dy[i] = dy[i]! * sy;
  }
  return { width, height, dx, dy };
}
