import { describe, expect, it } from 'vitest';
import { sliceUncertainty, uncertaintyTerms, withMassOutside } from '../../main/model/uncertainty';

// Expected values worked out by hand from u = Σ min(p, 1−p) / (Σ p + #[p>0.5] + s).
describe('sliceUncertainty', () => {
  it('is 0 for crisp maps and for maps with no probability mass', () => {
    const crisp = [1, 1, 0, 0];
    expect(sliceUncertainty([crisp, crisp, [0, 0, 0, 0]])).toBe(0);
    expect(
      sliceUncertainty([
        [0, 0],
        [0, 0],
        [0, 0],
      ]),
    ).toBe(0);
    expect(sliceUncertainty([])).toBe(0);
  });

  it('is 1 − soft Dice against the 0.5 mask without smoothing', () => {
    // Σ p = 1.7, # = 2, Σ p·[p>0.5] = 1.4: 1 − 2.8 / 3.7 = 0.9 / 3.7
    expect(sliceUncertainty([[0.8, 0.6, 0.3, 0]], { smoothing: 0 })).toBeCloseTo(0.9 / 3.7, 12);
    // all mass below 0.5 (no mask): soft Dice 0
    expect(sliceUncertainty([[0.2, 0, 0, 0]], { smoothing: 0 })).toBe(1);
    // p = 0.5 everywhere is on the wrong side of the mask
    expect(sliceUncertainty([[0.5, 0.5, 0.5, 0.5]], { smoothing: 0 })).toBe(1);
  });

  it('pools the organs: a large crisp organ outweighs a faint one', () => {
    const a = [0.9, 0.9, 0, 0];
    const b = [0.4, 0.4, 0, 0];
    // wrong side 0.1 + 0.1 + 0.4 + 0.4 = 1.0; Σ p = 2.6; # = 2  →  1 / 4.6
    expect(sliceUncertainty([a, b], { smoothing: 0 })).toBeCloseTo(1 / 4.6, 12);
    // averaging per organ would give (0.2 / 3.8 + 1) / 2 ≈ 0.53
  });

  it('by default smooths with 1 % of the slice area so a faint tail on an empty slice stays low', () => {
    const faint = new Float32Array(100);
    faint[0] = 0.2; // s = 1 pixel: 0.2 / (0.2 + 0 + 1)
    expect(sliceUncertainty([faint])).toBeCloseTo(0.2 / 1.2, 6);
    const tail = new Float32Array(10_000).fill(1e-4); // Σ p = 1, s = 100: 1 / 101
    expect(sliceUncertainty([tail])).toBeCloseTo(1 / 101, 6);
    // crisp stays 0 whatever the smoothing
    expect(sliceUncertainty([[1, 0, 0, 0]], { smoothing: 50 })).toBe(0);
  });

  it('uses the threshold it is given', () => {
    // t = 0.25: 0.3 is inside; wrong side 0.2 + 0.4 + 0.7 = 1.3; Σ p = 1.7; # = 3  →  1.3 / 4.7
    expect(sliceUncertainty([[0.8, 0.6, 0.3, 0]], { smoothing: 0, threshold: 0.25 })).toBeCloseTo(
      1.3 / 4.7,
      12,
    );
  });

  it("a part of a map and the mass outside it give the whole map's terms when the outside is below t", () => {
    // 3×3, the part is the middle row's right two pixels; outside everything ≤ 0.5.
    const map = [0.1, 0.2, 0.05, 0.3, 0.9, 0.6, 0.0, 0.4, 0.1];
    const whole = uncertaintyTerms(map);
    const part = uncertaintyTerms(map, 0.5, { width: 3, x0: 1, x1: 3, y0: 1, y1: 2 });
    expect(part).toEqual({ wrongSide: 0.1 + 0.4, mass: 1.5, count: 2 });
    const combined = withMassOutside(
      part,
      map.reduce((a, b) => a + b, 0),
    );
    expect(combined.count).toBe(whole.count);
    expect(combined.mass).toBeCloseTo(whole.mass, 12);
    expect(combined.wrongSide).toBeCloseTo(whole.wrongSide, 12);
  });
});
