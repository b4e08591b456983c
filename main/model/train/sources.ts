/**
 * Where training data comes from: a COCO instances JSON (the app's export of corrected masks; images
 * beside it), a dataset folder (Kaggle root with train.csv, opened by the imaging loader), or a list file
 * naming several of these, one per line (relative to the list; blank lines and # comments skipped).
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../core/errors';
import type { Dataset, Patient, SliceMasks } from '../../core/types';
import { readTextOrExplain } from '../../io/files';
import { openCocoDataset } from '../../imaging/coco-images';
import { openDataset } from '../../imaging/open';

export interface SourceOpeners {
  coco(file: string): Promise<Dataset>;
  folder(dir: string): Promise<Dataset>;
}

/** The imaging loaders: one implementation of every format for segmenting, training and the app. */
export const DEFAULT_OPENERS: SourceOpeners = {
  coco: openCocoDataset,
  folder: (dir) => openDataset(dir),
};

export async function openTrainingSource(
  source: string,
  openers: SourceOpeners = DEFAULT_OPENERS,
  depth = 0,
): Promise<Dataset> {
  // Lists may name lists; a depth limit turns a list that names itself into a clear error.
  if (depth > 4)
    throw new InputError(source, 'lists of training sources nest too deep (does a list name itself?)');
  let isDir: boolean;
  try {
    isDir = statSync(source).isDirectory();
  } catch {
    throw new InputError(source, 'training data not found');
  }
  if (isDir) return openers.folder(source);
  if (source.toLowerCase().endsWith('.json')) return openers.coco(source);
  const lines = (await readTextOrExplain(source))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  if (lines.length === 0) throw new InputError(source, 'list of training sources is empty');
  const parts: Dataset[] = [];
  for (const line of lines) {
    parts.push(await openTrainingSource(path.resolve(path.dirname(source), line), openers, depth + 1));
  }
  return mergeDatasets(source, parts);
}

/** Patients with the same id are joined; a scan id seen twice is an error (the same data listed twice). */
export function mergeDatasets(root: string, parts: Dataset[]): Dataset {
  const patients = new Map<string, Patient>();
  const masks = new Map<string, SliceMasks>();
  const scanIds = new Set<string>();
  for (const part of parts) {
    for (const p of part.patients) {
      for (const study of p.studies) {
        for (const scan of study.scans) {
          if (scanIds.has(scan.id))
            throw new InputError(root, `scan ${scan.id} appears in more than one source`);
          scanIds.add(scan.id);
        }
      }
      const existing = patients.get(p.id);
      if (existing) existing.studies.push(...p.studies);
      else patients.set(p.id, { id: p.id, studies: [...p.studies] });
    }
    for (const [id, m] of part.masks) masks.set(id, m);
  }
  return { root, patients: [...patients.values()], masks };
}
