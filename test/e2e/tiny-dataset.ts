/**
 * A tiny synthetic patient in the UW-Madison layout (1 patient, 2 days, a dozen small slices) with train.csv
 * ground truth, written by main/synth; stands in for data/demo so the UI tests do not depend on it.
 */
import path from 'node:path';
import { generatePhantomScan } from '../../main/synth/phantom';
import { writeUwmgiSlice } from '../../main/imaging/uwmgi';
import { TrainCsvWriter } from '../../main/synth/uw-layout';

export async function writeTinyDataset(root: string, slices = 12, size = 96): Promise<string[]> {
  const csv = new TrainCsvWriter();
  const scanIds: string[] = [];
  for (const [k, day] of ['day1', 'day8'].entries()) {
    const scanId = `case7_${day}`;
    scanIds.push(scanId);
    const scan = generatePhantomScan(100 + k, { slices, width: size, height: size }, { seed: 7 });
    for (let i = 0; i < slices; i++) {
      await writeUwmgiSlice(root, scanId, i + 1, scan.images[i]!, [scan.pixelMm, scan.pixelMm]);
      csv.add(scanId, i + 1, scan.masks[i]!);
    }
  }
  await csv.write(root);
  return scanIds.map((id) => path.join(root, 'train', id.split('_')[0]!, id));
}
