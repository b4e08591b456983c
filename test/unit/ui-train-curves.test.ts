/** Training chart series and model labels (renderer/lib/train-curves), hand-computed. */
import { describe, expect, it } from 'vitest';
import type { TrainEpoch } from '../../preload/api';
import { bestEpoch, modelDate, modelName, trainCurves } from '../../renderer/lib/train-curves';

const e = (epoch: number, extra: Partial<TrainEpoch> = {}): TrainEpoch => ({
  epoch,
  epochs: 3,
  loss: 1 / epoch,
  valLoss: null,
  valDice: null,
  valMeanDice: null,
  learningRate: 1e-4,
  best: false,
  seconds: 1,
  ...extra,
});

describe('train curves', () => {
  it('orders epochs, keeps validation gaps as null and per-organ Dice series', () => {
    const c = trainCurves([
      e(2, { valLoss: 0.5, valDice: { large_bowel: 0.25, small_bowel: null, stomach: 0.75 }, best: true }),
      e(1),
    ]);
    expect(c.labels).toEqual(['1', '2']);
    expect(c.loss).toEqual([1, 0.5]);
    expect(c.valLoss).toEqual([null, 0.5]);
    expect(c.dice).toEqual({ large_bowel: [null, 0.25], small_bowel: [null, null], stomach: [null, 0.75] });
    expect(c.hasValidation).toBe(true);
    expect(trainCurves([e(1)]).hasValidation).toBe(false);
  });

  it('the kept epoch is the last one marked best', () => {
    expect(bestEpoch([e(1, { best: true }), e(2), e(3, { best: true }), e(4)])!.epoch).toBe(3);
    expect(bestEpoch([e(1)])).toBeNull();
  });

  it('model labels drop the registration stamp and show the UTC time', () => {
    expect(modelName('20260101-120000-fine-tune-demo')).toBe('fine-tune-demo');
    expect(modelName('20260101-120000-2-fine-tune-demo')).toBe('fine-tune-demo');
    expect(modelName('custom')).toBe('custom');
    expect(modelDate('2026-01-01T12:34:56Z')).toBe('2026-01-01 12:34');
    expect(modelDate('')).toBe('');
  });
});
