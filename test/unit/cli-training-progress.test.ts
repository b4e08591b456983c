import { describe, expect, it } from 'vitest';
import { trainingProgressPrinter } from '../../main/cli/training-progress';
import type { TrainProgress } from '../../main/model/train/loop';

/** A stderr stand-in without a terminal, as under nohup or in CI. */
function captured(): { stream: NodeJS.WriteStream; text: () => string } {
  const chunks: string[] = [];
  const stream = { isTTY: false, write: (s: string) => (chunks.push(s), true) };
  return { stream: stream as unknown as NodeJS.WriteStream, text: () => chunks.join('') };
}

const step = (step: number, loss: number): TrainProgress => ({
  phase: 'train',
  epoch: 2,
  epochs: 16,
  step,
  steps: 100,
  loss,
  learningRate: 2e-3,
});

describe('trainingProgressPrinter', () => {
  it('says how far training is and ends each epoch with its record, named by the prefix', () => {
    const out = captured();
    const print = trainingProgressPrinter('fold case30: ', out.stream);
    print(step(1, 0.9)); // the first step draws at once
    print(step(2, 0.8)); // within 5 s of the last line: nothing
    print(step(100, 0.5)); // the epoch's last step always draws
    print({
      ...step(100, 0.5),
      phase: 'epoch-end',
      record: {
        epoch: 2,
        trainLoss: 0.5,
        valLoss: null,
        valDice: null,
        valMeanDice: null,
        valCorrectEmpty: null,
        learningRate: 2e-3,
        seconds: 412.3,
        best: true,
        at: '2026-11-30T23:59:00.000Z',
      },
    });
    const lines = out.text().split('\n');
    expect(lines).toHaveLength(4);
    // the ETA depends on how long the first step took here
    expect(lines[0]).toMatch(/^fold case30: epoch 2\/16 1\/100 eta \d+s loss 0\.9000 lr 2\.0e-3$/);
    expect(lines.slice(1)).toEqual([
      'fold case30: epoch 2/16 100/100 loss 0.5000 lr 2.0e-3',
      'fold case30: epoch 2: train 0.5000 val – Dice no validation (best) (412 s)',
      '',
    ]);
  });
});
