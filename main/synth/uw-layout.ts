/**
 * Writing synthetic scans in the UW-Madison / Kaggle layout that `tractus train --data` and the
 * importers read: `train/caseN/caseN_dayD/scans/slice_NNNN_W_H_pw_ph.png` (16-bit) plus a long-format
 * `train.csv` (`id,class,segmentation`).
 */
import path from 'node:path';
import { sliceId } from '../core/ids';
import { ORGANS } from '../core/organs';
import type { SliceImage, SliceMasks } from '../core/types';
import { writePng16 } from '../imaging/png';
import { writeFileAtomic } from '../io/files';
import { formatKaggleCsv, type KaggleMaskRow } from '../masks/kaggle-csv';
import { encodeKaggleRle } from '../masks/kaggle-rle';

/** Relative path of one slice PNG; spacing (mm) is written with two decimals as the dataset does. */
export function uwSlicePath(
  scanId: string,
  sliceNumber: number,
  width: number,
  height: number,
  mm: number,
): string {
  const patient = scanId.split('_')[0]!;
  const name = `slice_${String(sliceNumber).padStart(4, '0')}_${width}_${height}_${mm.toFixed(2)}_${mm.toFixed(2)}.png`;
  return path.join('train', patient, scanId, 'scans', name);
}

/** Write one slice PNG under `root`. (main/imaging may later offer writeUwmgiSlice for the same job.) */
export async function writeUwSlice(
  root: string,
  scanId: string,
  sliceNumber: number,
  image: SliceImage & { data: Uint16Array },
  pixelMm: number,
): Promise<void> {
  await writePng16(
    path.join(root, uwSlicePath(scanId, sliceNumber, image.width, image.height, pixelMm)),
    image,
  );
}

/** Collects ground truth slice by slice, then writes train.csv once. */
export class TrainCsvWriter {
  private readonly rows: KaggleMaskRow[] = [];

  add(scanId: string, sliceNumber: number, masks: SliceMasks): void {
    const id = sliceId(scanId, sliceNumber);
    for (const organ of ORGANS) {
      const mask = masks[organ];
      this.rows.push({ id, organ, rle: mask ? encodeKaggleRle(mask.data) : '' });
    }
  }

  async write(root: string): Promise<void> {
    await writeFileAtomic(path.join(root, 'train.csv'), formatKaggleCsv(this.rows, 'segmentation'));
  }
}
