import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildModel } from '../../main/model/arch';
import { archSpecByName } from '../../main/services/train';
import { atInputSize } from '../../main/model/resize';
import { InputError } from '../../main/core/errors';
import type { ModelCard } from '../../main/model/card';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const spec = archSpecByName('unet-small');

function loaded(spacingMm?: number) {
  const model = buildModel(spec, 32);
  const card = {
    architecture: spec,
    input: {
      size: { height: 32, width: 32 },
      sliceStride: 2,
      normalisation: { method: 'percentile', lowPercentile: 0.5, highPercentile: 99.5 },
      ...(spacingMm ? { spacingMm } : {}),
    },
  } as unknown as ModelCard;
  return { model, card };
}

describe('atInputSize', () => {
  it('keeps every weight and the field of view: 32² at 3.2 mm becomes 64² at 1.6 mm', async () => {
    const from = loaded(3.2);
    const to = atInputSize(from, { height: 64, width: 64 });
    expect(to.model.inputs[0]!.shape).toEqual([null, 64, 64, 3]);
    expect(to.card.input.size).toEqual({ height: 64, width: 64 });
    expect(to.card.input.spacingMm).toBeCloseTo(1.6, 12);
    const a = from.model.getWeights();
    const b = to.model.getWeights();
    expect(b.map((w) => w.shape)).toEqual(a.map((w) => w.shape));
    for (let i = 0; i < a.length; i++) expect(await b[i]!.data()).toEqual(await a[i]!.data());
    from.model.dispose();
    to.model.dispose();
  });

  it('takes a given spacing; without a spacing on the card, none is invented', () => {
    const from = loaded(3.2);
    const given = atInputSize(from, { height: 48, width: 48 }, 2);
    expect(given.card.input.spacingMm).toBe(2);
    const plain = loaded();
    const fitted = atInputSize(plain, { height: 48, width: 48 });
    expect(fitted.card.input.spacingMm).toBeUndefined();
    for (const m of [from.model, given.model, plain.model, fitted.model]) m.dispose();
  });

  it('refuses a size the architecture cannot take, or a new aspect that would stretch the field', () => {
    const from = loaded(3.2);
    expect(() => atInputSize(from, { height: 30, width: 30 })).toThrow(InputError);
    expect(() => atInputSize(from, { height: 32, width: 64 })).toThrow(/aspect/);
    from.model.dispose();
  });
});
