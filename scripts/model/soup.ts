/**
 * Weight averaging ("model soup") of models of one architecture, one of them fine-tuned from the other
 * (K from J): one network costs what one member costs at inference, unlike an ensemble of forward passes.
 * Batch-norm statistics are averaged with the weights. Two forms, so the soup is validated as it ships:
 *
 *   node --import tsx scripts/model/soup.ts --folds RUN_A,RUN_B --patients case30,case47 --out RUN
 *     each patient's fold checkpoints averaged into RUN/fold-<patient>/checkpoint/best (then
 *     `tractus crossval --init-folds RUN --epochs 0` scores the soups on their held-out patients);
 *   node --import tsx scripts/model/soup.ts --models DIR_A,DIR_B --out DIR
 *     model folders averaged; the card is the last member's, its provenance naming the soup.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../main/model/backend/select';
import { loadModel, saveModel } from '../../main/model/model-io';
import { CHECKPOINT_DIR } from '../../main/model/train/loop';
import { loadTensors, saveTensors, type NamedTensor } from '../../main/model/train/weights-file';

const { values: a } = parseArgs({
  options: {
    folds: { type: 'string' },
    patients: { type: 'string' },
    models: { type: 'string' },
    out: { type: 'string' },
  },
});
if (!a.out || !a.folds === !a.models)
  throw new Error('give --out and either --folds (with --patients) or --models');

/** The element-wise mean of equally shaped tensor lists (same order, same shapes). */
function average(members: tf.Tensor[][]): tf.Tensor[] {
  const first = members[0]!;
  for (const m of members) {
    if (m.length !== first.length || m.some((t, i) => t.shape.join() !== first[i]!.shape.join())) {
      throw new Error('members differ in architecture (tensor count or shapes)');
    }
  }
  return first.map((_, i) => tf.tidy(() => tf.div(tf.addN(members.map((m) => m[i]!)), members.length)));
}

await initBackend('wasm');
if (a.folds) {
  const runs = a.folds.split(',');
  for (const patient of (a.patients ?? '').split(',').filter(Boolean)) {
    const sets: NamedTensor[][] = await Promise.all(
      runs.map((r) => loadTensors(path.join(r, `fold-${patient}`, CHECKPOINT_DIR), 'best')),
    );
    const mean = average(sets.map((s) => s.map((t) => t.tensor)));
    const dir = path.join(a.out, `fold-${patient}`, CHECKPOINT_DIR);
    await mkdir(dir, { recursive: true });
    await saveTensors(
      dir,
      'best',
      mean.map((tensor, i) => ({ name: sets[0]![i]!.name, tensor })),
    );
    process.stderr.write(`fold ${patient}: ${runs.length} checkpoints averaged into ${dir}\n`);
  }
} else {
  const dirs = a.models!.split(',');
  const members = await Promise.all(dirs.map((d) => loadModel(d)));
  const last = members[members.length - 1]!;
  last.model.setWeights(average(members.map((m) => m.model.getWeights())));
  const card = {
    ...last.card,
    training: {
      ...last.card.training,
      provenance: {
        ...last.card.training.provenance,
        method: `weight average of ${members.length} models (${members.map((m) => m.card.name).join(', ')})`,
      },
    },
  };
  await saveModel(last.model, card, a.out);
  process.stderr.write(`${dirs.join(' + ')} averaged into ${a.out}\n`);
}
