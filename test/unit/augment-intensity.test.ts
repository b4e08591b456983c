import { describe, expect, it } from 'vitest';
import { applyIntensity, biasField, IDENTITY_INTENSITY } from '../../main/model/augment/intensity';
import { createPlanes } from '../../main/model/augment/image';
import { augmentSample, identityParams } from '../../main/model/augment';

function ramp(): ReturnType<typeof createPlanes> {
  // Values 0, 0.25, 0.5, 0.75, 1 in one channel.
  const p = createPlanes(5, 1, 1);
  p.data.set([0, 0.25, 0.5, 0.75, 1]);
  return p;
}

describe('augment intensity', () => {
  it('gamma 2 squares intensities rescaled to [0, 1] (hand-computed)', () => {
    const out = applyIntensity(ramp(), { ...IDENTITY_INTENSITY, gamma: 2, seed: 1 });
    expect(Array.from(out.data)).toEqual([0, 0.0625, 0.25, 0.5625, 1]);
  });

  it('contrast 2 doubles the distance from the mean (0.5)', () => {
    const out = applyIntensity(ramp(), { ...IDENTITY_INTENSITY, contrast: 2, seed: 1 });
    expect(Array.from(out.data)).toEqual([-0.5, 0, 0.5, 1, 1.5]);
  });

  it('bias field stays within 1 ± strength, is smooth, and touches the peak', () => {
    const f = biasField(64, 64, 0.2, 3);
    let lo = Infinity;
    let hi = -Infinity;
    let maxStep = 0;
    for (let i = 0; i < f.length; i++) {
      lo = Math.min(lo, f[i]!);
      hi = Math.max(hi, f[i]!);
      if (i % 64) maxStep = Math.max(maxStep, Math.abs(f[i]! - f[i - 1]!));
    }
    expect(lo).toBeGreaterThanOrEqual(0.8 - 1e-6);
    expect(hi).toBeLessThanOrEqual(1.2 + 1e-6);
    expect(Math.max(1 - lo, hi - 1)).toBeCloseTo(0.2, 5);
    expect(maxStep).toBeLessThan(0.05);
  });

  it('noise has the requested standard deviation relative to the image', () => {
    const p = createPlanes(200, 200, 1);
    for (let i = 0; i < p.data.length; i++) p.data[i] = i % 2; // std 0.5
    const out = applyIntensity(p, { ...IDENTITY_INTENSITY, noiseStd: 0.2, seed: 9 });
    let sq = 0;
    for (let i = 0; i < p.data.length; i++) sq += (out.data[i]! - p.data[i]!) ** 2;
    expect(Math.sqrt(sq / p.data.length)).toBeCloseTo(0.1, 2);
  });

  it('intensity changes never touch the masks and all channels get the same change', () => {
    const img = createPlanes(8, 8, 3);
    for (let i = 0; i < img.data.length; i++) img.data[i] = Math.floor(i / 3) / 64;
    const masks = createPlanes(8, 8, 3);
    masks.data[5] = 1;
    const params = identityParams();
    params.intensity = { gamma: 0.7, contrast: 1.3, biasStrength: 0.2, noiseStd: 0, seed: 4 };
    const out = augmentSample(img, masks, params);
    expect(out.masks.data).toEqual(masks.data);
    for (let i = 0; i < 64; i++) {
      expect(out.image.data[i * 3 + 1]).toBe(out.image.data[i * 3]);
      expect(out.image.data[i * 3 + 2]).toBe(out.image.data[i * 3]);
    }
    expect(out.image.data).not.toEqual(img.data);
  });
});
