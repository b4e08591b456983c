/**
 * Worker thread for data-parallel training: holds one replica of the model and its optimizer, computes
 * gradients on its share of each batch, and applies the averaged gradients the main thread sends back,
 * so all replicas take identical steps. Non-trainable weights (batch-norm moving statistics) travel with
 * the gradients and are averaged too.
 */
import { workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../backend/select';
import { benchLoss } from '../backend/bench-unet';
import { adamFromState, adamWithLearningRate, withAdamState } from '../train/adam-state';
import { segmentationLoss } from '../train/loss';
import { serveRequests, type WithTransfer } from './protocol';
import { augmentPacked } from './train-augment';
import { flattenTensors, unflattenTensors } from './flat-tensors';
import type { FlatTensors, ModuleRef, TrainReply, TrainRequest, TrainWorkerData } from './train-protocol';

type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;

const data = workerData as TrainWorkerData;
let model: tfl.LayersModel | null = null;
let lossFn: LossFn = benchLoss;
let optimizer: tf.AdamOptimizer | null = null;
let learningRate = data.learningRate;

async function importRef<T>(ref: ModuleRef): Promise<T> {
  const mod = (await import(ref.module)) as Record<string, unknown>;
  const fn = mod[ref.export];
  if (typeof fn !== 'function') throw new Error(`${ref.module} has no exported function ${ref.export}`);
  return fn as T;
}

function requireOptimizer(): tf.AdamOptimizer {
  if (!optimizer) throw new Error('train worker: init first');
  return optimizer;
}

function requireModel(): tfl.LayersModel {
  if (!model) throw new Error('train worker: init first');
  return model;
}

async function handle(req: TrainRequest): Promise<TrainReply | WithTransfer<TrainReply>> {
  switch (req.kind) {
    case 'init': {
      const info = await initBackend(data.backend ?? 'auto');
      model =
        'topology' in data.model
          ? await tfl.models.modelFromJSON(
              data.model.topology as Parameters<typeof tfl.models.modelFromJSON>[0],
            )
          : await (
              await importRef<(o: unknown) => tfl.LayersModel | Promise<tfl.LayersModel>>(data.model)
            )(data.model.options);
      lossFn = data.loss === 'segmentation' ? segmentationLoss : benchLoss;
      optimizer = tf.train.adam(learningRate);
      return { kind: 'init', params: model.countParams(), backend: info.name };
    }
    case 'grads': {
      const m = requireModel();
      const t0 = performance.now();
      const batch = req.augment ? augmentPacked(req.x, req.xShape, req.y, req.yShape, req.augment) : req;
      const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
      const { value, grads } = tf.tidy(() => {
        const x = tf.tensor(batch.x, req.xShape);
        const y = tf.tensor(batch.y, req.yShape);
        return tf.variableGrads(() => lossFn(y, m.apply(x, { training: true }) as tf.Tensor), vars);
      });
      const loss = (await value.data())[0]!;
      const flat = flattenTensors(vars.map((v) => grads[v.name]!));
      tf.dispose([value, ...Object.values(grads)]);
      const stats = flattenTensors(m.nonTrainableWeights.map((w) => w.read()));
      const reply: TrainReply = { kind: 'grads', loss, grads: flat, stats, ms: performance.now() - t0 };
      return { result: reply, transfer: [flat.buffer as ArrayBuffer, stats.buffer as ArrayBuffer] };
    }
    case 'apply': {
      const m = requireModel();
      const vars = m.trainableWeights.map((w) => w.read() as tf.Variable);
      const grads = unflattenTensors(
        req.grads,
        vars.map((v) => v.shape),
      );
      optimizer!.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i]! })));
      const stats = unflattenTensors(
        req.stats,
        m.nonTrainableWeights.map((w) => w.read().shape),
      );
      m.nonTrainableWeights.forEach((w, i) => w.write(stats[i]!));
      tf.dispose(grads);
      return { kind: 'ok' };
    }
    case 'getWeights': {
      const weights = flattenTensors(requireModel().getWeights());
      return { result: { kind: 'weights', weights }, transfer: [weights.buffer as ArrayBuffer] };
    }
    case 'setLearningRate': {
      optimizer = await adamWithLearningRate(requireOptimizer(), req.learningRate);
      learningRate = req.learningRate;
      return { kind: 'ok' };
    }
    case 'getOptimizer': {
      const state: FlatTensors = await withAdamState(requireOptimizer(), (weights) => ({
        names: weights.map((w) => w.name),
        shapes: weights.map((w) => [...w.tensor.shape]),
        data: flattenTensors(weights.map((w) => w.tensor)),
      }));
      return { result: { kind: 'optimizer', state }, transfer: [state.data.buffer as ArrayBuffer] };
    }
    case 'setOptimizer': {
      const tensors = unflattenTensors(req.state.data, req.state.shapes);
      const next = await adamFromState(
        learningRate,
        tensors.map((tensor, i) => ({ name: req.state.names[i]!, tensor })),
      );
      tf.dispose(tensors);
      requireOptimizer().dispose();
      optimizer = next;
      return { kind: 'ok' };
    }
    case 'evaluate': {
      const m = requireModel();
      const { loss, pred } = tf.tidy(() => {
        const p = m.predict(tf.tensor(req.x, req.xShape)) as tf.Tensor;
        return { pred: p, loss: lossFn(tf.tensor(req.y, req.yShape), p) };
      });
      const reply: TrainReply = {
        kind: 'evaluate',
        loss: (await loss.data())[0]!,
        pred: (await pred.data()) as Float32Array,
      };
      tf.dispose([loss, pred]);
      return { result: reply, transfer: [reply.pred.buffer as ArrayBuffer] };
    }
    case 'setWeights': {
      const m = requireModel();
      const ws = unflattenTensors(
        req.weights,
        m.getWeights().map((w) => w.shape),
      );
      m.setWeights(ws);
      tf.dispose(ws);
      return { kind: 'ok' };
    }
  }
}

serveRequests(handle);
