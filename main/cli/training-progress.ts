/**
 * What `train` and `crossval` print while a network trains: a bar per epoch (steps, loss, learning rate)
 * and one line when the epoch ends. Without a terminal the bar becomes a line every few seconds, so a run
 * left in the background still says how far it is.
 */
import { ORGANS } from '../core/organs';
import type { TrainProgress } from '../model/train/loop';
import { ProgressBar } from './progress';

/** A handler for the training loop's progress; `prefix` names the run (e.g. "fold case30: "). */
export function trainingProgressPrinter(
  prefix = '',
  stream: NodeJS.WriteStream = process.stderr,
): (p: TrainProgress) => void {
  let bar: ProgressBar | null = null;
  return (p) => {
    if (p.phase === 'train') {
      bar ??= new ProgressBar({ label: `${prefix}epoch ${p.epoch}/${p.epochs}`, total: p.steps, stream });
      bar.update(p.step, `loss ${p.loss.toFixed(4)} lr ${p.learningRate.toExponential(1)}`);
    } else if (p.phase === 'epoch-end' && p.record) {
      bar = null;
      const r = p.record;
      const dice = r.valDice
        ? ORGANS.map((o) => `${o} ${r.valDice![o]?.toFixed(3) ?? '–'}`).join(' ')
        : 'no validation';
      stream.write(
        `${prefix}epoch ${r.epoch}: train ${r.trainLoss.toFixed(4)} val ${r.valLoss?.toFixed(4) ?? '–'} ` +
          `Dice ${dice}${r.best ? ' (best)' : ''} (${r.seconds.toFixed(0)} s)\n`,
      );
    }
  };
}
