/**
 * Mask codec speed on real data (the fixture copies, so it runs on any clone): COCO RLE decode/encode and
 * run-length IoU on the 33 pycocotools-written site-sample annotations (512²), Kaggle RLE on the 20-row
 * eval_subset copy, and colour-mask decoding of a 512² anti-aliased mask.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decode } from 'fast-png';
import { ORGANS } from '../../main/core/organs';
import { decodeCocoRle, encodeCocoRle, rleIou, type CocoRle } from '../../main/masks/coco-rle';
import { colourMaskToSliceMasks } from '../../main/masks/colour-masks';
import { parseWideMaskCsv } from '../../main/masks/kaggle-csv';
import { decodeKaggleRle, encodeKaggleRle } from '../../main/masks/kaggle-rle';
import { maskToPolygons } from '../../main/masks/polygons';
import { FIXTURES } from '../helpers/shared-data';
import { itemsPerSecond, type BenchRow } from './util';

export async function bench(): Promise<BenchRow[]> {
  const coco = JSON.parse(
    readFileSync(path.join(FIXTURES, 'masks/site-sample.annotations.coco.json'), 'utf8'),
  ) as {
    annotations: Array<{ segmentation: CocoRle }>;
  };
  const rles = coco.annotations.map((a) => a.segmentation);
  const masks = rles.map((r) => decodeCocoRle(r, 'bench'));
  const csvFile = path.join(FIXTURES, 'masks/eval_subset_20rows.csv');
  const rows = parseWideMaskCsv(readFileSync(csvFile, 'utf8'), csvFile);
  const kaggle = rows.flatMap((r) =>
    ORGANS.flatMap((o) => (r.rles[o] ? [{ rle: r.rles[o]!, w: r.width, h: r.height, id: r.id }] : [])),
  );
  const png = decode(readFileSync(path.join(FIXTURES, 'masks/masks-colour/case101_day20_slice_0110.png')));
  const crowd = rles.map(() => false);
  return [
    {
      name: 'COCO RLE decode 512² (site sample)',
      value: itemsPerSecond(() => rles.forEach((r) => decodeCocoRle(r, 'b'))) * rles.length,
      unit: 'masks/s',
    },
    {
      name: 'COCO RLE encode 512²',
      value: itemsPerSecond(() => masks.forEach(encodeCocoRle)) * masks.length,
      unit: 'masks/s',
    },
    {
      name: 'COCO rleIou 33×33 on run lengths (512²)',
      value: itemsPerSecond(() => rleIou(rles, rles, crowd)) * rles.length * rles.length,
      unit: 'pairs/s',
    },
    {
      name: 'Kaggle RLE decode+encode (eval_subset rows)',
      value:
        itemsPerSecond(() => kaggle.forEach((k) => encodeKaggleRle(decodeKaggleRle(k.rle, k.w, k.h, k.id)))) *
        kaggle.length,
      unit: 'masks/s',
    },
    {
      name: 'mask → polygons 512² (site sample)',
      value: itemsPerSecond(() => masks.forEach(maskToPolygons)) * masks.length,
      unit: 'masks/s',
    },
    {
      name: 'colour mask → SliceMasks 512²',
      value: itemsPerSecond(() => colourMaskToSliceMasks(png.data as Uint8Array, png.width, png.height, 3)),
      unit: 'images/s',
    },
  ];
}

// Run directly: `node --import tsx test/bench/masks.bench.ts`.
if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await bench()) console.log(`${r.name}: ${r.value.toFixed(0)} ${r.unit}`);
}
