import { describe, expect, it } from 'vitest';
import { cosineLearningRate } from '../../main/model/train/schedule';
import { lrScheduleOf, wholeNumber } from '../../main/cli/options';

describe('cosine learning-rate schedule', () => {
  it('starts at the base rate, halves at mid-run and ends on the floor', () => {
    expect(cosineLearningRate(1, 0, 1, 5)).toBe(1);
    expect(cosineLearningRate(1, 0, 3, 5)).toBeCloseTo(0.5, 12);
    expect(cosineLearningRate(1, 0, 2, 5)).toBeCloseTo((1 + Math.SQRT1_2) / 2, 12);
    expect(cosineLearningRate(2e-3, 1e-5, 5, 5)).toBeCloseTo(1e-5, 12);
  });

  it('decreases monotonically and stays within [floor, base]', () => {
    let previous = Infinity;
    for (let e = 1; e <= 30; e++) {
      const lr = cosineLearningRate(2e-3, 1e-6, e, 30);
      expect(lr).toBeLessThan(previous);
      expect(lr).toBeGreaterThanOrEqual(1e-6);
      expect(lr).toBeLessThanOrEqual(2e-3);
      previous = lr;
    }
  });

  it('keeps the base rate for a one-epoch run', () => {
    expect(cosineLearningRate(1e-3, 0, 1, 1)).toBe(1e-3);
  });
});

describe('CLI option parsers', () => {
  it('accept the schedules by name and refuse others', () => {
    expect(lrScheduleOf('cosine')).toBe('cosine');
    expect(lrScheduleOf('plateau')).toBe('plateau');
    expect(() => lrScheduleOf('step')).toThrow(/plateau or cosine/);
  });

  it('refuse fractions, negatives and text where a whole number is expected', () => {
    expect(wholeNumber(1)('12')).toBe(12);
    for (const bad of ['0', '1.5', '-3', 'ten', '']) expect(() => wholeNumber(1)(bad)).toThrow(/≥ 1/);
  });
});
