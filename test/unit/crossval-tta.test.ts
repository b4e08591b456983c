import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { predictWithTta } from '../../main/services/crossval';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/**
 * A network that is not mirror-symmetric: every output channel at column x is the centre input channel at
 * column x − 1 (a 1×3 kernel with its left tap only, zero padding).
 */
function shiftRight(): tfl.LayersModel {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({
        inputShape: [1, 5, 3],
        filters: 3,
        kernelSize: [1, 3],
        padding: 'same',
        useBias: false,
      }),
    ],
  });
  const kernel = new Float32Array(1 * 3 * 3 * 3); // [kh, kw, in, out]
  for (let out = 0; out < 3; out++) kernel[(0 * 3 + 1) * 3 + out] = 1; // kw 0, input channel 1
  model.setWeights([tf.tensor4d(kernel, [1, 3, 3, 3])]);
  return model;
}

describe('crossval test-time flip (--tta hflip)', () => {
  it('averages the map with the mirrored input’s map, mirrored back', async () => {
    const model = shiftRight();
    // One bright pixel in the centre channel at column 1 of 5.
    const x = tf.tensor4d(
      Array.from({ length: 15 }, (_, i) => (i === 1 * 3 + 1 ? 1 : 0)),
      [1, 1, 5, 3],
    );
    const channel0 = async (t: tf.Tensor) => {
      const d = await t.data();
      t.dispose();
      return Array.from({ length: 5 }, (_, col) => d[col * 3]);
    };
    // Plain: shifted right to column 2.
    expect(await channel0(predictWithTta(model, x, 'none'))).toEqual([0, 0, 1, 0, 0]);
    // Mirrored, the pixel is at column 3, shifted to 4, mirrored back to 0: half at each.
    expect(await channel0(predictWithTta(model, x, 'hflip'))).toEqual([0.5, 0, 0.5, 0, 0]);
    x.dispose();
    model.dispose();
  });
});
