/**
 * Synthetic data speed: phantom slices and SynthSeg 2.5D samples per second (266², the UW-Madison size),
 * on the fixture label maps so it runs on any clone. A training loop pulling from createSynthSegSource
 * needs samples at least as fast as it trains on them.
 */
import path from 'node:path';
import { readLabelScans } from '../../main/synth/label-scans';
import { generatePhantomScan } from '../../main/synth/phantom';
import { createSynthSegSource } from '../../main/synth/synthseg';
import { FIXTURES } from '../helpers/shared-data';
import { itemsPerSecond, type BenchRow } from './util';

export async function bench(): Promise<BenchRow[]> {
  const scans = await readLabelScans(path.join(FIXTURES, 'synth/eval_subset_rows.csv'));
  const source = createSynthSegSource(scans, { seed: 1 });
  const sized = createSynthSegSource(scans, { seed: 1, size: 256 });
  let seed = 0;
  return [
    {
      name: 'phantom slices 266² (10-slice scans)',
      value: itemsPerSecond(
        () => generatePhantomScan(seed++, { slices: 10, width: 266, height: 266 }),
        10,
        2,
      ),
      unit: 'slices/s',
    },
    {
      name: 'SynthSeg 2.5D samples, native size (266² / 360×310)',
      value: itemsPerSecond(() => source.next(), 1, 2),
      unit: 'samples/s',
      note: '3 slices each',
    },
    {
      name: 'SynthSeg 2.5D samples at 256²',
      value: itemsPerSecond(() => sized.next(), 1, 2),
      unit: 'samples/s',
      note: '3 slices each',
    },
  ];
}
