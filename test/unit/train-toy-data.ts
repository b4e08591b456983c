/**
 * A tiny in-memory labelled dataset for training tests: each slice shows organs as shapes of distinct
 * brightness (stomach bright disc, large bowel mid-grey ring, small bowel dim blobs) on a dark
 * background, so a small network can learn them in seconds. Positions drift with the slice number so
 * neighbouring slices differ, and some slices show no organ at all.
 */
import type { BinaryMask, Dataset, Patient, Scan, SliceMasks } from '../../main/core/types';
import { sliceId } from '../../main/core/ids';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { createRng } from '../../main/model/augment/random';

export function toySlice(
  size: number,
  k: number,
  seedShift: number,
): { image: Uint16Array; masks: SliceMasks } {
  const image = new Uint16Array(size * size).fill(20);
  const mk = (): BinaryMask => ({ width: size, height: size, data: new Uint8Array(size * size) });
  const stomach = mk();
  const large = mk();
  const small = mk();
  const c = size / 2;
  const sx = c - size * 0.18 + ((k + seedShift) % 5);
  const sy = c - size * 0.12;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      // Large bowel: ring around the centre.
      const r = Math.hypot(x - c, y - c - 2);
      if (r >= size * 0.36 && r <= size * 0.44) {
        large.data[i] = 1;
        image[i] = 120;
      }
      // Stomach: bright disc upper left.
      if (Math.hypot(x - sx, y - sy) <= size * 0.14) {
        stomach.data[i] = 1;
        image[i] = 230;
      }
      // Small bowel: two dim blobs lower right.
      const b1 = Math.hypot(x - c - size * 0.12, y - c - size * 0.12) <= size * 0.07;
      const b2 = Math.hypot(x - c - ((k * 3) % 4), y - c - size * 0.2) <= size * 0.06;
      if (b1 || b2) {
        small.data[i] = 1;
        image[i] = 70;
      }
    }
  }
  return { image, masks: { large_bowel: large, small_bowel: small, stomach } };
}

/** `patients` patients with one scan of `slices` slices each; slice 0 of each scan shows no organ. */
export function toyDataset(patients: number, slices: number, size: number): Dataset {
  const masks = new Map<string, SliceMasks>();
  const out: Patient[] = [];
  for (let p = 0; p < patients; p++) {
    const patientId = `case${100 + p}`;
    const scanId = `${patientId}_day1`;
    const images: Uint16Array[] = [];
    const infos = [];
    for (let k = 0; k < slices; k++) {
      const id = sliceId(scanId, k + 1);
      if (k === 0) {
        images.push(new Uint16Array(size * size).fill(20 + p));
        masks.set(id, {});
      } else {
        const s = toySlice(size, k, p);
        images.push(s.image);
        masks.set(id, s.masks);
      }
      infos.push({ id, number: k + 1, width: size, height: size });
    }
    const scan: Scan = {
      id: scanId,
      patientId,
      studyId: scanId,
      day: 'day1',
      width: size,
      height: size,
      pixelSpacing: null,
      sliceThickness: 3,
      intensity: 'uint16',
      source: 'uwmgi',
      slices: infos,
      readSlice: async (i) => ({ width: size, height: size, data: images[i]! }),
    };
    out.push({ id: patientId, studies: [{ id: scanId, patientId, day: 'day1', scans: [scan] }] });
  }
  return { root: 'toy', patients: out, masks };
}

/**
 * Replace a fresh model's random kernels (tfjs draws them unseeded) with Glorot-uniform values from a
 * seeded generator, so a training test starts from the same weights in every run and its outcome does not
 * depend on the draw. Biases and batch-norm parameters keep their deterministic initial values.
 */
export function seedKernels(model: tfl.LayersModel, seed: number): void {
  const rng = createRng(seed);
  const made: tf.Tensor[] = [];
  const weights = model.getWeights().map((w) => {
    if (w.rank !== 4) return w;
    const [kh, kw, cin, cout] = w.shape as [number, number, number, number];
    const limit = Math.sqrt(6 / (kh * kw * (cin + cout)));
    const kernel = tf.tensor(
      Float32Array.from({ length: w.size }, () => rng.uniform(-limit, limit)),
      w.shape,
    );
    made.push(kernel);
    return kernel;
  });
  model.setWeights(weights); // copies into the model's variables
  tf.dispose(made);
}
