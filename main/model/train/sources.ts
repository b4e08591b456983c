/**
 * Where training data comes from: a COCO instances JSON (the app's export of corrected masks; images
 * beside it), a dataset folder (Kaggle root with train.csv, opened by the imaging loader), or a list file
 * naming several of these, one per line (relative to the list; blank lines and # comments skipped).
 */
import { promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { InputError } from '../../core/errors';
import { parseSlicePath } from '../../core/ids';
import type { Dataset, Patient, Scan, SliceMasks } from '../../core/types';
import { readJsonOrExplain, readTextOrExplain } from '../../io/files';
import { readPngSlice } from '../../imaging/png';
import { cocoToSliceMasks, parseCocoDataset, type CocoImage } from '../../masks/coco';

export interface SourceOpeners {
  coco(file: string): Promise<Dataset>;
  folder(dir: string): Promise<Dataset>;
}

export const DEFAULT_OPENERS: SourceOpeners = {
  coco: openCocoTrainingSet,
  folder: async (dir) => {
    throw new InputError(
      dir,
      'dataset folders need the imaging loader, which this build lacks; pass a COCO JSON',
    );
  },
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

/**
 * A COCO instances file as a training Dataset. Images named with UW-Madison ids (caseN_dayD …
 * slice_NNNN) are grouped into scans by case and day and ordered by slice number, so the 2.5D
 * neighbours are real neighbours; any other image becomes a one-slice scan of its own patient.
 */
export async function openCocoTrainingSet(file: string): Promise<Dataset> {
  const coco = parseCocoDataset(await readJsonOrExplain(file), file);
  const byImage = cocoToSliceMasks(coco, file);
  const dir = path.dirname(file);
  const groups = new Map<
    string,
    { patientId: string; day: string; items: Array<{ n: number; image: CocoImage }> }
  >();
  for (const image of coco.images) {
    const key = parseSlicePath(image.file_name);
    const scanId = key?.scanId ?? `img${image.id}`;
    const g = groups.get(scanId) ?? {
      patientId: key?.patientId ?? scanId,
      day: key?.day ?? 'day0',
      items: [],
    };
    g.items.push({ n: key?.sliceNumber ?? 1, image });
    groups.set(scanId, g);
  }
  const masks = new Map<string, SliceMasks>();
  const patients = new Map<string, Patient>();
  for (const [scanId, g] of groups) {
    g.items.sort((a, b) => a.n - b.n);
    const first = g.items[0]!.image;
    const slices = g.items.map(({ n, image }) => {
      const id = `${scanId}_slice_${String(n).padStart(4, '0')}`;
      masks.set(id, byImage.get(image.id)!);
      return {
        id,
        number: n,
        width: image.width,
        height: image.height,
        file: path.resolve(dir, image.file_name),
      };
    });
    const scan: Scan = {
      id: scanId,
      patientId: g.patientId,
      studyId: scanId,
      day: g.day,
      width: first.width,
      height: first.height,
      pixelSpacing: null,
      sliceThickness: null,
      intensity: 'uint8',
      source: 'coco',
      slices,
      readSlice: async (i) => {
        const info = slices[i]!;
        const img = await readPngSlice(info.file);
        if (img.width !== info.width || img.height !== info.height) {
          throw new InputError(
            info.file,
            `is ${img.width}×${img.height}, ${file} says ${info.width}×${info.height}`,
          );
        }
        return img;
      },
    };
    const patient = patients.get(g.patientId) ?? { id: g.patientId, studies: [] };
    patient.studies.push({ id: scanId, patientId: g.patientId, day: g.day, scans: [scan] });
    patients.set(g.patientId, patient);
  }
  await fs.access(dir);
  return { root: file, patients: [...patients.values()], masks };
}
