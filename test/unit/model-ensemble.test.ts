/**
 * Ensembles as one network (model/arch/ensemble.ts) and `tractus models ensemble`: the merged model's
 * output against the members run one by one and averaged here, the architecture spec's `members` (built
 * from a seed, saved, loaded), and the model folder the service writes (card, model.onnx, refusals).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type * as tfl from '@tensorflow/tfjs-layers';
import { InputError } from '../../main/core/errors';
import { buildModel, type ArchSpec } from '../../main/model/arch';
import { ENSEMBLE_MEAN, memberPrefix, mergeMembers } from '../../main/model/arch/ensemble';
import { loadModel, saveModel } from '../../main/model/model-io';
import { loadOnnxRuntime } from '../../main/model/onnx/runtime';
import { flopsPerSlice } from '../../main/model/onnx/save';
import { ensembleModelFolders } from '../../main/services/ensemble';
import { tinyCard, TINY_SIDE, TINY_UNET } from '../helpers/tiny-unet';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const temps: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tractus-ensemble-'));
  temps.push(d);
  return d;
};
afterAll(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

const SPEC: ArchSpec = TINY_UNET;
const SIDE = TINY_SIDE;

function predict(model: tfl.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

/** The output bias starts every map near sigmoid(−4); spread the members' logits so their means differ. */
function spreadHead(model: tfl.LayersModel, gain: number): void {
  const head = model.getLayer('head');
  const [kernel, bias] = head.getWeights();
  head.setWeights([tf.mul(kernel!, gain), tf.zerosLike(bias!)]);
}

describe('mergeMembers', () => {
  it('computes the mean of the members’ probability maps and leaves the members as they were', () => {
    const members = [buildModel(SPEC, SIDE, 1), buildModel(SPEC, SIDE, 2), buildModel(SPEC, SIDE, 3)];
    members.forEach((m, i) => spreadHead(m, 2 + i));
    const x = tf.randomUniform([2, SIDE, SIDE, 3], 0, 1, 'float32', 5);
    const outs = members.map((m) => predict(m, x));
    const merged = mergeMembers(members);
    const got = predict(merged, x);
    let maxDiff = 0;
    let spread = 0;
    for (let i = 0; i < got.length; i++) {
      const mean = (outs[0]![i]! + outs[1]![i]! + outs[2]![i]!) / 3;
      maxDiff = Math.max(maxDiff, Math.abs(got[i]! - mean));
      spread = Math.max(spread, Math.abs(outs[0]![i]! - outs[1]![i]!));
    }
    expect(maxDiff).toBeLessThan(1e-6);
    // The members disagree, so a merged model that ran one member three times would fail above.
    expect(spread).toBeGreaterThan(0.05);
    expect(members.map((m) => predict(m, x))).toEqual(outs);
    expect(merged.outputs[0]!.sourceLayer.name).toBe(ENSEMBLE_MEAN);
    expect(merged.getLayer(`${memberPrefix(2)}head`)).toBeDefined();
    expect(merged.countParams()).toBe(3 * members[0]!.countParams());
    for (const m of [...members, merged]) m.dispose();
    x.dispose();
  });

  it('refuses one member and members of different shapes', () => {
    const a = buildModel(SPEC, SIDE, 1);
    const b = buildModel(SPEC, 32, 1);
    expect(() => mergeMembers([a])).toThrow(/at least 2 members/);
    expect(() => mergeMembers([a, b])).toThrow(/member 2 .* does not match member 1/);
    a.dispose();
    b.dispose();
  });
});

describe('architecture spec with members', () => {
  it('builds an ensemble whose members start from different weights, the same on every build of a seed', () => {
    const spec: ArchSpec = { ...SPEC, members: 2 };
    const [a, b] = [buildModel(spec, SIDE, 7), buildModel(spec, SIDE, 7)];
    const single = buildModel(SPEC, SIDE, 7);
    const weights = (m: tfl.LayersModel, layer: string) =>
      m.getLayer(layer).getWeights()[0]!.dataSync() as Float32Array;
    expect(weights(a, 'm1_head')).toEqual(weights(b, 'm1_head'));
    expect(weights(a, 'm1_head')).toEqual(weights(single, 'head'));
    expect(weights(a, 'm2_head')).not.toEqual(weights(a, 'm1_head'));
    expect(flopsPerSlice(a)).toBe(2 * flopsPerSlice(single));
    for (const m of [a, b, single]) m.dispose();
  });

  it('saves and loads like any model (the card carries members)', async () => {
    const spec: ArchSpec = { ...SPEC, members: 2 };
    const model = buildModel(spec, SIDE, 3);
    const dir = path.join(tmp(), 'ens');
    const card = tinyCard('ens', { architecture: spec });
    await saveModel(model, card, dir);
    const loaded = await loadModel(dir);
    const x = tf.randomUniform([1, SIDE, SIDE, 3], 0, 1, 'float32', 9);
    expect(predict(loaded.model, x)).toEqual(predict(model, x));
    expect(loaded.card.architecture.members).toBe(2);
    for (const m of [model, loaded.model]) m.dispose();
    x.dispose();
  });
});

describe('tractus models ensemble', () => {
  async function saved(name: string, seed: number, side = SIDE): Promise<string> {
    const model = buildModel(SPEC, side, seed);
    spreadHead(model, 3);
    const dir = path.join(tmp(), name);
    const card = tinyCard(name, { side, spacingMm: 3.2 });
    await saveModel(model, card, dir);
    model.dispose();
    return dir;
  }

  it('writes one model folder averaging the members, with model.onnx checked against tfjs', async () => {
    const [a, b] = [await saved('alpha', 1), await saved('beta', 2)];
    const out = path.join(tmp(), 'alpha-beta');
    const r = await ensembleModelFolders({ members: [a, b], out });
    const ens = await loadModel(out);
    const [ma, mb] = [await loadModel(a), await loadModel(b)];
    const x = tf.randomUniform([2, SIDE, SIDE, 3], 0, 1, 'float32', 3);
    const [pa, pb, pe] = [predict(ma.model, x), predict(mb.model, x), predict(ens.model, x)];
    for (let i = 0; i < pe.length; i++) expect(pe[i]!).toBeCloseTo((pa[i]! + pb[i]!) / 2, 6);
    expect(ens.card.architecture.members).toBe(2);
    expect(ens.card.input).toEqual(ma.card.input);
    expect(ens.card.name).toBe('alpha-beta');
    expect(ens.card.validation).toBeNull();
    expect(ens.card.training.provenance.baseModel).toBe('alpha, beta');
    expect(ens.card.flopsPerSlice).toBe(2 * flopsPerSlice(ma.model));
    expect(existsSync(path.join(out, 'model.onnx'))).toBe(true);
    const ort = await loadOnnxRuntime();
    if (ort.ok) expect(r.onnx.check).toMatchObject({ ok: true });
    else console.warn(`SKIPPED the ONNX Runtime check (${ort.reason})`);
    for (const m of [ens.model, ma.model, mb.model]) m.dispose();
    x.dispose();
  });

  it('refuses a single member, another input size and an ensemble as a member, naming the folder', async () => {
    const [a, small, big] = [await saved('one', 1), await saved('two', 2), await saved('wide', 3, 32)];
    await expect(ensembleModelFolders({ members: [a], out: path.join(tmp(), 'x') })).rejects.toThrow(
      /at least 2 model folders/,
    );
    const mismatch = ensembleModelFolders({ members: [a, big], out: path.join(tmp(), 'y') });
    await expect(mismatch).rejects.toBeInstanceOf(InputError);
    await expect(mismatch).rejects.toThrow(new RegExp(`${big}.*another architecture or input`));
    const pair = path.join(tmp(), 'pair');
    await ensembleModelFolders({ members: [a, small], out: pair });
    await expect(ensembleModelFolders({ members: [pair, a], out: path.join(tmp(), 'z') })).rejects.toThrow(
      /already an ensemble/,
    );
    await expect(ensembleModelFolders({ members: [a, small], out: pair })).rejects.toThrow(/already exists/);
  });
});
