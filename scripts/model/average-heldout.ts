/**
 * An ensemble measured without training: each patient's held-out probability maps of several
 * cross-validation runs (the same folds, e.g. J and K) averaged into a new run folder. `tractus crossval
 * --whole-scans --out RUN` with the same folds then reads the averaged folds back and scores them as any
 * run (every choice nested). Every member of a fold never saw that fold's patient, so neither does the mean.
 * `--z-smooth W` then blends each slice's maps with its neighbours' in the scan (slice numbers ± 1), W each
 * (the slice keeps 1 − W per neighbour found): a post-processing measured the same way, also on one run.
 *
 *   node --import tsx scripts/model/average-heldout.ts --runs RUN_A,RUN_B --patients case30,case47 --out RUN
 *   node --import tsx scripts/model/average-heldout.ts --runs RUN --z-smooth 0.25 --patients … --out RUN_Z
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parseSliceId, sliceId } from '../../main/core/ids';
import { ORGANS } from '../../main/core/organs';
import { plain, readHeldOut, writeHeldOut } from '../../main/services/crossval';
import { HeldOutSet, type HeldOutSlice } from '../../main/services/crossval-score';

const { values: a } = parseArgs({
  options: {
    runs: { type: 'string' },
    patients: { type: 'string' },
    out: { type: 'string' },
    'z-smooth': { type: 'string' },
  },
});
if (!a.runs || !a.patients || !a.out) throw new Error('--runs, --patients and --out are required');
const runs = a.runs.split(',');
const zWeight = Number(a['z-smooth'] ?? 0);
if (!(zWeight >= 0 && zWeight < 0.5)) throw new Error('--z-smooth takes a weight in [0, 0.5)');

/** Each slice's maps blended with its neighbours' (same scan, slice number ± 1), `w` per neighbour. */
function zSmoothed(slices: HeldOutSlice[], w: number): HeldOutSlice[] {
  const byId = new Map(slices.map((s) => [s.sliceId, s]));
  return slices.map((s) => {
    const key = parseSliceId(s.sliceId);
    if (!key) throw new Error(`slice id ${s.sliceId} is not caseN_dayD_slice_NNNN`);
    const neighbours = [key.sliceNumber - 1, key.sliceNumber + 1].flatMap(
      (n) => byId.get(sliceId(key.scanId, n)) ?? [],
    );
    const organs = { ...s.organs };
    for (const organ of ORGANS) {
      const own = s.organs[organ].prob;
      const prob = own.map((v) => (1 - w * neighbours.length) * v);
      for (const q of neighbours) {
        const p = q.organs[organ].prob;
        for (let k = 0; k < prob.length; k++) prob[k] = prob[k]! + w * p[k]!;
      }
      organs[organ] = { ...s.organs[organ], prob };
    }
    return { ...s, organs };
  });
}

for (const patient of a.patients.split(',')) {
  const members = await Promise.all(
    runs.map(async (r) => {
      const saved = await readHeldOut(path.join(r, `fold-${patient}`));
      if (!saved) throw new Error(`${r} has no finished fold for ${patient}`);
      return saved;
    }),
  );
  const [first, ...others] = members;
  let slices = first!.slices;
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
  if (zWeight > 0) slices = zSmoothed(slices, zWeight);
  const fold = {
    ...first!.fold,
    seconds: members.reduce((s, m) => s + m.fold.seconds, 0),
    untuned: new HeldOutSet(slices).score(plain()),
  };
  await writeHeldOut(path.join(a.out, `fold-${patient}`), fold, slices);
  process.stderr.write(
    `fold ${patient}: ${runs.length} runs' held-out maps averaged${zWeight ? `, z-smoothed (${zWeight})` : ''}\n`,
  );
}
