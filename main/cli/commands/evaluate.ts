/**
 * `tractus evaluate --gt <ground truth> --pred <prediction> [--images ROOT] [--pred-images FILE] [--json]`:
 * Dice, Hausdorff, the competition score and COCO segm AP. Parsing and printing only; the work is in
 * services/evaluate.ts so the app calls the same code.
 */
import type { Command } from 'commander';
import { ORGANS } from '../../core/organs';
import { evaluateFiles, type EvaluationReport } from '../../services/evaluate';
import { ProgressBar } from '../progress';

interface EvaluateFlags {
  gt: string;
  pred: string;
  images?: string;
  predImages?: string;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description('Score predicted organ masks against ground truth (Dice, 3-D Hausdorff, score, COCO AP)')
    .requiredOption(
      '--gt <file>',
      'ground truth: COCO dataset .json, wide mask .csv, or train.csv (+ --images)',
    )
    .requiredOption('--pred <file>', 'prediction: COCO results/dataset .json or Kaggle .csv (scores 1.0)')
    .option('--images <dir>', 'UW-Madison dataset folder: slice sizes for a train.csv ground truth')
    .option('--pred-images <file>', "COCO dataset whose image ids the prediction's image_id refer to")
    .option('--json', 'print one JSON object on stdout')
    .action(async (flags: EvaluateFlags) => {
      let bar: ProgressBar | undefined;
      const report = await evaluateFiles({
        gt: flags.gt,
        pred: flags.pred,
        images: flags.images,
        predImages: flags.predImages,
        onProgress: (done, total) => {
          bar ??= new ProgressBar({ label: 'scans', total });
          bar.update(done);
        },
      });
      process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : formatReport(report));
    });
}

export function formatReport(r: EvaluationReport): string {
  const f = (v: number | null): string => (v === null ? '     —' : v.toFixed(4).padStart(6));
  const rows = [
    `${'metric'.padEnd(24)}${[...ORGANS, 'all'].map((o) => o.padStart(12)).join('')}`,
    `${'Dice'.padEnd(24)}${[...ORGANS.map((o) => r.dice[o]), r.dice.mean].map((v) => f(v).padStart(12)).join('')}`,
    `${'Hausdorff (normalised)'.padEnd(24)}${[...ORGANS.map((o) => r.hausdorff[o]), r.hausdorff.mean].map((v) => f(v).padStart(12)).join('')}`,
    `${'Dice, empties count 1'.padEnd(24)}${[...ORGANS.map((o) => r.competition.dice[o]), r.competition.dice.mean].map((v) => f(v).padStart(12)).join('')}`,
    `${'COCO AP .50:.95'.padEnd(24)}${[...ORGANS.map((o) => r.coco.per_category[o]), r.coco.AP].map((v) => f(v).padStart(12)).join('')}`,
    '',
    `competition score (0.4·Dice with empties + 0.6·(1 − Hausdorff)): ${f(r.competition.score).trim()}`,
    `score on present-or-predicted pairs only (0.4·Dice + 0.6·(1 − Hausdorff)): ${f(r.score).trim()}`,
    `COCO AP ${f(r.coco.AP).trim()}  AP50 ${f(r.coco.AP50).trim()}  AP75 ${f(r.coco.AP75).trim()}  ` +
      `APs ${f(r.coco.APs).trim()}  APm ${f(r.coco.APm).trim()}  APl ${f(r.coco.APl).trim()}`,
    '',
    `${r.counts.scans} scans, ${r.counts.slices} slices; ${r.counts.pairs_scored} (slice, organ) pairs scored, ` +
      `${r.counts.correct_empties} correct empties, ${r.counts.false_positive_slices} false-positive slices, ` +
      `${r.counts.missed_slices} missed slices`,
    `${r.counts.hausdorff_pairs} (scan, organ) Hausdorff pairs, ${r.counts.hausdorff_one_side_empty} with one side empty; ` +
      `${r.counts.gt_instances} ground-truth and ${r.counts.pred_instances} predicted masks` +
      (r.counts.pred_slices_not_in_gt > 0
        ? `; ${r.counts.pred_slices_not_in_gt} predicted slices not in the ground truth (ignored)`
        : ''),
  ];
  return `${rows.join('\n')}\n`;
}
