/**
 * Learn the position prior (main/model/slice-prior.ts) from real ground-truth masks in the wide Kaggle
 * CSV format (id, large_bowel, small_bowel, stomach, width, height …), leaving out the patients a model
 * will be validated on, so the prior never saw them.
 *
 *   node --import tsx scripts/model/slice-prior.ts --masks train_masks.csv --exclude case30,case47 \
 *     --source "UW-Madison GI Tract train masks" --out prior.json [--bins 20] [--min-prior 0.02]
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ORGANS, type Organ } from '../../main/core/organs';
import { parseSliceId } from '../../main/core/ids';
import { writeJsonAtomic } from '../../main/io/files';
import { parseWideMaskCsv } from '../../main/masks/kaggle-csv';
import { learnSlicePrior, type ScanPresence, type SlicePrior } from '../../main/model/slice-prior';

const { values: a } = parseArgs({
  options: {
    masks: { type: 'string' },
    exclude: { type: 'string', default: '' },
    source: { type: 'string', default: 'UW-Madison GI Tract ground-truth masks' },
    out: { type: 'string' },
    bins: { type: 'string', default: '20' },
    'min-prior': { type: 'string', default: '0.02' },
  },
});
if (!a.masks || !a.out) throw new Error('--masks and --out are required');
const excluded = new Set(
  a.exclude
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const rows = parseWideMaskCsv(await readFile(a.masks, 'utf8'), a.masks);
const scans = new Map<string, ScanPresence['slices']>();
const patients = new Set<string>();
for (const row of rows) {
  const key = parseSliceId(row.id);
  if (!key || excluded.has(key.patientId)) continue;
  patients.add(key.patientId);
  const present = Object.fromEntries(ORGANS.map((o) => [o, Boolean(row.rles[o])])) as Record<Organ, boolean>;
  const list = scans.get(key.scanId) ?? [];
  list.push({ number: key.sliceNumber, present });
  scans.set(key.scanId, list);
}
const presence: ScanPresence[] = [...scans.values()].map((slices) => ({
  count: Math.max(slices.length, ...slices.map((s) => s.number)),
  slices,
}));
const prior: SlicePrior = {
  source: `${a.source}: ${presence.length} scans of ${patients.size} patients${excluded.size ? ` (left out: ${[...excluded].join(', ')})` : ''}`,
  scans: presence.length,
  organs: learnSlicePrior(presence, Number(a.bins)),
  minPrior: Number(a['min-prior']),
};
await writeJsonAtomic(a.out, prior, true);
console.log(prior.source);
for (const o of ORGANS) console.log(o.padEnd(12), prior.organs[o].map((p) => p.toFixed(2)).join(' '));
