import { describe, expect, it } from 'vitest';
import { cosineLearningRate, cosineStepLearningRate } from '../../main/model/train/schedule';
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

describe('per-step cosine schedule', () => {
  it('spends no step at the floor: the last of 600 steps runs just above it', () => {
    expect(cosineStepLearningRate(1e-3, 0, 0, 600)).toBe(1e-3);
    expect(cosineStepLearningRate(1e-3, 0, 300, 600)).toBeCloseTo(5e-4, 15);
    const last = cosineStepLearningRate(1e-3, 0, 599, 600);
    expect(last).toBeGreaterThan(0);
    expect(last).toBeCloseTo((1e-3 * (1 + Math.cos((Math.PI * 599) / 600))) / 2, 15);
    expect(last / 1e-3).toBeLessThan(1e-4);
  });

  it('never runs at the floor the per-epoch schedule spends its whole last epoch on', () => {
    // The per-epoch schedule reaches the floor at the last epoch's start; per step, that rate is never used.
    expect(cosineLearningRate(1, 0, 6, 6)).toBe(0);
    expect(cosineStepLearningRate(1, 0, 500, 600)).toBeCloseTo((1 + Math.cos((Math.PI * 5) / 6)) / 2, 12);
  });
});

describe('CLI option parsers', () => {
  it('accept the schedules by name and refuse others', () => {
    expect(lrScheduleOf('cosine')).toBe('cosine');
    expect(lrScheduleOf('plateau')).toBe('plateau');
    expect(lrScheduleOf('cosine-step')).toBe('cosine-step');
    expect(() => lrScheduleOf('step')).toThrow(/plateau or cosine/);
  });

  it('refuse fractions, negatives and text where a whole number is expected', () => {
    expect(wholeNumber(1)('12')).toBe(12);
    for (const bad of ['0', '1.5', '-3', 'ten', '']) expect(() => wholeNumber(1)(bad)).toThrow(/≥ 1/);
  });
});
