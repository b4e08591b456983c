/**
 * Evaluation speed at UW-Madison size: Dice + 3-D Hausdorff + COCO segm AP for 80 scans × 144 slices at 266²
 * (`evaluateSegmentation`, the code behind `tractus evaluate`). Ground truth is real eval_subset masks (the
 * 266² scans of ../shared when present, else the fixture scan) placed on 60–75 consecutive slices of each
 * 144-slice scan; predictions are the same masks shifted a few pixels, with one organ in 12 dropped, so the
 * Hausdorff transforms and the IoUs have real work to do.
 * Run alone: `node --import tsx test/bench/metrics.bench.ts [scans]`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ORGANS, type Organ } from '../../main/core/organs';
import type { BinaryMask } from '../../main/core/types';
import { parseWideMaskCsv } from '../../main/masks/kaggle-csv';
import { decodeKaggleRle } from '../../main/masks/kaggle-rle';
import { evaluateSegmentation, type EvalImage, type EvalInstance } from '../../main/metrics/evaluation';
import { FIXTURES, sharedPath } from '../helpers/shared-data';
import type { BenchRow } from './util';

const SIDE = 266;
const SLICES = 144;

/** Real 266² slices' organ RLEs, grouped by scan in slice order. */
function realScans(): Array<Array<Partial<Record<Organ, string>>>> {
  const shared = sharedPath('uwmgi-masks/eval_subset.csv');
  const file = existsSync(shared) ? shared : path.join(FIXTURES, 'metrics/eval_subset_2scans.csv');
  const scans = new Map<string, Array<Partial<Record<Organ, string>>>>();
  for (const row of parseWideMaskCsv(readFileSync(file, 'utf8'), file)) {
    if (row.width !== SIDE || row.height !== SIDE) continue;
    const scan = row.id.replace(/_slice_\d+$/, '');
    scans.set(scan, [...(scans.get(scan) ?? []), row.rles]);
  }
  return [...scans.values()];
}

function shifted(mask: Uint8Array, dy: number, dx: number): Uint8Array {
  const out = new Uint8Array(mask.length);
  for (let y = Math.max(0, dy); y < Math.min(SIDE, SIDE + dy); y++) {
    const src = (y - dy) * SIDE;
    for (let x = Math.max(0, dx); x < Math.min(SIDE, SIDE + dx); x++) out[y * SIDE + x] = mask[src + x - dx]!;
  }
  return out;
}

export function buildInput(scanCount: number) {
  const sources = realScans();
  const images: EvalImage[] = [];
  const groundTruth: EvalInstance[] = [];
  const prediction: EvalInstance[] = [];
  let seed = 12345;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let s = 0; s < scanCount; s++) {
    const source = sources[s % sources.length]!;
    const first = 20 + (s % 30);
    for (let z = 0; z < SLICES; z++) {
      const imageId = images.length + 1;
      images.push({
        imageId,
        sliceId: `case${s}_day0_slice_${String(z + 1).padStart(4, '0')}`,
        scanId: `case${s}_day0`,
        sliceNumber: z + 1,
        width: SIDE,
        height: SIDE,
      });
      const rles = z >= first && z - first < source.length ? source[z - first]! : {};
      for (const organ of ORGANS) {
        const rle = rles[organ];
        if (!rle) continue;
        const decode = (): BinaryMask => ({
          width: SIDE,
          height: SIDE,
          data: decodeKaggleRle(rle, SIDE, SIDE, 'bench'),
        });
        groundTruth.push({ imageId, organ, score: 1, iscrowd: false, decode });
        if (random() < 1 / 12) continue;
        const dy = Math.round((random() - 0.5) * 8);
        const dx = Math.round((random() - 0.5) * 8);
        const score = random();
        prediction.push({
          imageId,
          organ,
          score,
          iscrowd: false,
          decode: () => ({ width: SIDE, height: SIDE, data: shifted(decode().data, dy, dx) }),
        });
      }
    }
  }
  return { images, groundTruth, prediction };
}

export async function bench(scanCount = 80): Promise<BenchRow[]> {
  const input = buildInput(scanCount);
  const t0 = performance.now();
  const report = evaluateSegmentation(input);
  const seconds = (performance.now() - t0) / 1000;
  const note = `${scanCount}×${SLICES} slices ${SIDE}², ${input.groundTruth.length} GT / ${input.prediction.length} predicted masks, score ${report.score?.toFixed(3)}, AP ${report.coco.AP?.toFixed(3)}`;
  return [
    { name: 'metrics: Dice + 3-D Hausdorff + COCO AP, UW-size set', value: seconds, unit: 's', note },
    { name: 'metrics: per 144-slice scan', value: (seconds * 1000) / scanCount, unit: 'ms' },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await bench(Number(process.argv[2] ?? 80))) {
    console.log(`${r.name}: ${r.value.toFixed(2)} ${r.unit}${r.note ? `  (${r.note})` : ''}`);
  }
}
