/**
 * An ensemble measured without training: each patient's held-out probability maps of several
 * cross-validation runs (the same folds, e.g. J and K) averaged into a new run folder. `tractus crossval
 * --whole-scans --out RUN` with the same folds then reads the averaged folds back and scores them as any
 * run (every choice nested). Every member of a fold never saw that fold's patient, so neither does the mean.
 *
 *   node --import tsx scripts/model/average-heldout.ts --runs RUN_A,RUN_B --patients case30,case47 --out RUN
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ORGANS } from '../../main/core/organs';
import { plain, readHeldOut, writeHeldOut } from '../../main/services/crossval';
import { HeldOutSet } from '../../main/services/crossval-score';

const { values: a } = parseArgs({
  options: { runs: { type: 'string' }, patients: { type: 'string' }, out: { type: 'string' } },
});
if (!a.runs || !a.patients || !a.out) throw new Error('--runs, --patients and --out are required');
const runs = a.runs.split(',');

for (const patient of a.patients.split(',')) {
  const members = await Promise.all(
    runs.map(async (r) => {
      const saved = await readHeldOut(path.join(r, `fold-${patient}`));
      if (!saved) throw new Error(`${r} has no finished fold for ${patient}`);
      return saved;
    }),
  );
  const [first, ...others] = members;
  const slices = first!.slices;
  slices.forEach((slice, i) => {
    for (const organ of ORGANS) {
      const sum = slice.organs[organ].prob;
      for (const other of others) {
        const o = other.slices[i];
        if (o?.sliceId !== slice.sliceId) throw new Error(`runs differ in held-out slices of ${patient}`);
        const p = o.organs[organ].prob;
        for (let k = 0; k < sum.length; k++) sum[k] = sum[k]! + p[k]!;
      }
      for (let k = 0; k < sum.length; k++) sum[k] = sum[k]! / members.length;
    }
  });
  const fold = {
    ...first!.fold,
    seconds: members.reduce((s, m) => s + m.fold.seconds, 0),
    untuned: new HeldOutSet(slices).score(plain()),
  };
  await writeHeldOut(path.join(a.out, `fold-${patient}`), fold, slices);
  process.stderr.write(`fold ${patient}: ${runs.length} runs' held-out maps averaged\n`);
}
