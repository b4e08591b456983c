/**
 * Adam's state carried from one optimiser to another without leaking tensors. tfjs's Adam keeps its
 * learning rate private, so a new rate means a new optimiser that takes over the moments and step count.
 * Two tfjs details make the naive hand-over leak: `getWeights()` creates a fresh step-count tensor on every
 * call, and `setWeights()` copies each tensor into a new variable instead of adopting it. Once per epoch
 * that went unnoticed; a per-step schedule changes the rate 600 times a run, and two leaked copies of the
 * moments per change exhausted the wasm heap.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NamedTensor } from './weights-file';

/** A new Adam at `learningRate` holding a copy of `state`; the caller still owns (and disposes) `state`. */
export async function adamFromState(learningRate: number, state: NamedTensor[]): Promise<tf.AdamOptimizer> {
  const next = tf.train.adam(learningRate);
  await next.setWeights(state);
  return next;
}

/**
 * `use` gets the optimiser's state — its own moment variables, to read and not keep — and the step-count
 * tensor `getWeights()` made for the call (first, by tfjs's order) is freed afterwards.
 */
export async function withAdamState<T>(
  optimizer: tf.AdamOptimizer,
  use: (state: NamedTensor[]) => T | Promise<T>,
): Promise<T> {
  const state = await optimizer.getWeights();
  try {
    return await use(state);
  } finally {
    state[0]?.tensor.dispose();
  }
}

/** `optimizer` continued at another learning rate (moments and step count kept); the old one is disposed. */
export async function adamWithLearningRate(
  optimizer: tf.AdamOptimizer,
  learningRate: number,
): Promise<tf.AdamOptimizer> {
  const next = await withAdamState(optimizer, (state) => adamFromState(learningRate, state));
  optimizer.dispose();
  return next;
}

/** A copy of the optimiser's state that outlives it (checkpoints); the caller disposes it. */
export function copyAdamState(optimizer: tf.AdamOptimizer): Promise<NamedTensor[]> {
  return withAdamState(optimizer, (state) =>
    state.map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) })),
  );
}
