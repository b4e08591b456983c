/**
 * Segmentation loss: binary cross-entropy + soft Dice, each per organ channel, averaged over organs.
 * BCE gives well-behaved gradients early; soft Dice counters the small size of the organs relative to
 * the slice (BCE alone learns "background everywhere" first). Works on sigmoid probabilities.
 */
import * as tf from '@tensorflow/tfjs-core';

const EPS = 1e-6;
/** Added to the Dice numerator and denominator so an organ absent from truth and prediction scores 1. */
const DICE_SMOOTH = 1;

/** yTrue, yPred: [batch, H, W, organs]. Returns a scalar. */
export function segmentationLoss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.clipByValue(yPred, EPS, 1 - EPS);
    const bce = tf.neg(
      tf.mean(tf.add(tf.mul(yTrue, tf.log(p)), tf.mul(tf.sub(1, yTrue), tf.log(tf.sub(1, p))))),
    );
    return tf.add(bce, softDiceLoss(yTrue, yPred)) as tf.Scalar;
  });
}

/** 1 − mean over organs of (2·Σ p·t + 1) / (Σ p + Σ t + 1), sums over the whole batch per organ. */
export function softDiceLoss(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const axes = [0, 1, 2];
    const inter = tf.sum(tf.mul(yTrue, yPred), axes);
    const denom = tf.add(tf.sum(yTrue, axes), tf.sum(yPred, axes));
    const dice = tf.div(tf.add(tf.mul(inter, 2), DICE_SMOOTH), tf.add(denom, DICE_SMOOTH));
    return tf.sub(1, tf.mean(dice)) as tf.Scalar;
  });
}
