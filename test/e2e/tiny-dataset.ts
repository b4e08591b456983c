/**
 * A tiny synthetic patient in the UW-Madison layout (1 patient, 2 days, a dozen small slices) with train.csv
 * ground truth, written by main/synth; stands in for data/demo so the UI tests do not depend on it.
 */
import path from 'node:path';
import { buildModel } from '../../main/model/arch';
import { initBackend } from '../../main/model/backend/select';
import { newModelCard } from '../../main/model/card';
import { saveModel } from '../../main/model/model-io';
import { ModelRegistry } from '../../main/model/registry';
import { archSpecByName } from '../../main/services/train';
import { generatePhantomScan } from '../../main/synth/phantom';
import { writeUwmgiSlice } from '../../main/imaging/uwmgi';
import { TrainCsvWriter } from '../../main/synth/uw-layout';

/** Patients case7, case8, … each with two days (day1, day8); the first patient is as it always was. */
export async function writeTinyDataset(
  root: string,
  slices = 12,
  size = 96,
  patients = 1,
): Promise<string[]> {
  const csv = new TrainCsvWriter();
  const scanIds: string[] = [];
  for (let p = 0; p < patients; p++) {
    for (const [k, day] of ['day1', 'day8'].entries()) {
      const scanId = `case${7 + p}_${day}`;
      scanIds.push(scanId);
      const scan = generatePhantomScan(
        100 + k + 10 * p,
        { slices, width: size, height: size },
        { seed: 7 + p },
      );
      for (let i = 0; i < slices; i++) {
        await writeUwmgiSlice(root, scanId, i + 1, scan.images[i]!, [scan.pixelMm, scan.pixelMm]);
        csv.add(scanId, i + 1, scan.masks[i]!);
      }
    }
  }
  await csv.write(root);
  return scanIds.map((id) => path.join(root, 'train', id.split('_')[0]!, id));
}

/**
 * Register and activate a tiny compact U-Net (64² input) in `home`'s model registry, so segmentation and
 * fine-tuning in the browser tests take seconds on a 2-core CI machine (the UI path is the same).
 */
export async function activateTinyModel(home: string, scratch: string): Promise<string> {
  await initBackend('wasm');
  const spec = archSpecByName('unet-small');
  const model = buildModel(spec, 64);
  const dir = path.join(scratch, 'tiny-model');
  await saveModel(
    model,
    newModelCard({
      name: 'tiny-e2e',
      description: 'Untrained compact U-Net for the browser tests',
      architecture: spec,
      inputSize: { height: 64, width: 64 },
      backend: 'wasm',
      versions: {},
    }),
    dir,
  );
  model.dispose();
  const registry = new ModelRegistry(home);
  const { id } = await registry.register(dir, 'tiny-e2e');
  await registry.activate(id);
  return id;
}
