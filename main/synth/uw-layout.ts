/**
 * Ground truth of synthetic scans as the Kaggle long-format `train.csv` (`id,class,segmentation`) that
 * sits beside the UW-Madison slice folders (written by main/imaging's writeUwmgiSlice).
 */
import path from 'node:path';
import { sliceId } from '../core/ids';
import { ORGANS } from '../core/organs';
import type { SliceMasks } from '../core/types';
import { writeFileAtomic } from '../io/files';
import { formatKaggleCsv, type KaggleMaskRow } from '../masks/kaggle-csv';
import { encodeKaggleRle } from '../masks/kaggle-rle';

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
