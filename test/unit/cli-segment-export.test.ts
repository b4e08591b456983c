/**
 * `tractus segment … --export rtstruct,dicom-seg,nifti` end to end, as a user runs it: the CLI in its own
 * process with the shipped default model on a small seeded phantom (8 slices of 160², UW-Madison layout).
 * The three clinical files appear beside the run's other outputs, with the MR series they reference (a PNG
 * source has no DICOM of its own), and hold what the run predicted: Tractus reads the RTSTRUCT and the SEG
 * back to the predicted masks exactly, the NIfTI label map has the predicted voxels, and where installed,
 * dciodvfy finds no error and pydicom reads the SEG (as in export-clinical.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORGANS, categoryIdOf, organOfCategoryId } from '../../main/core/organs';
import { allScans } from '../../main/core/types';
import { decodeNifti } from '../../main/imaging/nifti';
import { openDataset } from '../../main/imaging/open';
import { decodeCocoRle } from '../../main/masks/coco-rle';
import { parseCocoDataset, parseCocoResults } from '../../main/masks/coco';
import { writeSyntheticKaggleDataset } from '../../main/synth/datasets';
import { PYTHON, dciodvfyErrors, hasTool, reference } from '../helpers/export-tools';
import { REPO_ROOT } from '../helpers/shared-data';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tractus-segment-export-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const data = path.join(tmp, 'data');
const out = path.join(tmp, 'out');
const SLICES = 8;
const SIZE = 160;
let scanId = '';
/** What the run predicted, read from its COCO results: per slice number (1-based), organ → pixel flags. */
const predicted = new Map<number, Partial<Record<(typeof ORGANS)[number], Uint8Array>>>();

beforeAll(() => {
  return (async () => {
    const written = await writeSyntheticKaggleDataset(data, {
      cases: 1,
      days: 1,
      slices: SLICES,
      size: SIZE,
      seed: 3,
    });
    scanId = written.scans[0]!;
    const cli = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'main/cli/index.ts',
        'segment',
        data,
        '--out',
        out,
        '--export',
        'rtstruct,dicom-seg,nifti',
      ],
      // A home of its own: the shipped default model, not a fine-tuned one activated on this machine.
      { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, TRACTUS_HOME: path.join(tmp, 'home') } },
    );
    if (cli.status !== 0) throw new Error(`tractus segment exited ${cli.status}: ${cli.stderr}`);
    const images = parseCocoDataset(
      JSON.parse(readFileSync(path.join(out, 'images.coco.json'), 'utf8')),
      'images.coco.json',
    );
    const sliceOf = new Map(images.images.map((i) => [i.id, Number(/slice_(\d{4})_/.exec(i.file_name)![1])]));
    const results = parseCocoResults(
      JSON.parse(readFileSync(path.join(out, 'predictions.json'), 'utf8')),
      'predictions.json',
    );
    for (const r of results) {
      const organ = organOfCategoryId(r.category_id)!;
      const n = sliceOf.get(r.image_id)!;
      predicted.set(n, {
        ...predicted.get(n),
        [organ]: decodeCocoRle(r.segmentation, 'predictions.json').data,
      });
    }
  })();
}, 300_000);

describe('tractus segment --export rtstruct,dicom-seg,nifti (default model, phantom)', () => {
  it('writes <scan>.rtstruct.dcm, .seg.dcm, .seg.nii.gz and the MR series beside the other outputs', () => {
    expect(
      readdirSync(out)
        .filter((f) => !f.startsWith('.'))
        .sort(),
    ).toEqual(
      [
        `${scanId}.mr`,
        `${scanId}.rtstruct.dcm`,
        `${scanId}.seg.dcm`,
        `${scanId}.seg.nii.gz`,
        'images.coco.json',
        'predictions.json',
        'submission.csv',
        'summary.json',
      ].sort(),
    );
    expect(readdirSync(path.join(out, `${scanId}.mr`))).toHaveLength(SLICES);
    // The phantom has bowel the default model finds: there is something to export.
    expect(predicted.size).toBeGreaterThan(0);
  });

  it('Tractus reads the RTSTRUCT and the SEG back to the predicted masks', async () => {
    for (const kind of ['rtstruct', 'seg']) {
      const folder = path.join(tmp, `back-${kind}`);
      cpSync(path.join(out, `${scanId}.mr`), folder, { recursive: true });
      copyFileSync(path.join(out, `${scanId}.${kind}.dcm`), path.join(folder, `${kind}.dcm`));
      const back = await openDataset(folder);
      expect(back.warnings ?? []).toEqual([]);
      const scan = allScans(back)[0]!;
      expect(scan.slices).toHaveLength(SLICES);
      scan.slices.forEach((slice, i) => {
        for (const organ of ORGANS) {
          const want = predicted.get(i + 1)?.[organ];
          const got = back.masks.get(slice.id)?.[organ]?.data;
          const differ = (want ?? new Uint8Array(SIZE * SIZE)).reduce(
            (n, v, p) => n + ((v ? 1 : 0) !== (got?.[p] ? 1 : 0) ? 1 : 0),
            0,
          );
          expect({ kind, slice: i + 1, organ, differ }).toEqual({ kind, slice: i + 1, organ, differ: 0 });
        }
      });
    }
  });

  it('the NIfTI label map has the predicted voxels of each organ (1 large bowel, 2 small bowel, 3 stomach)', () => {
    const file = path.join(out, `${scanId}.seg.nii.gz`);
    const nifti = decodeNifti(readFileSync(file), file);
    expect([...nifti.header.dims].sort((a, b) => a - b)).toEqual([SLICES, SIZE, SIZE]);
    const count = new Map<number, number>();
    for (let n = 0; n < SLICES * SIZE * SIZE; n++) {
      const v = nifti.voxel(n);
      if (v) count.set(v, (count.get(v) ?? 0) + 1);
    }
    // Where organs overlap the later label wins (as main/export/nifti-write documents): count it so.
    const want = new Map<number, number>();
    for (const masks of predicted.values()) {
      for (let p = 0; p < SIZE * SIZE; p++) {
        let label = 0;
        for (const organ of ORGANS) if (masks[organ]?.[p]) label = categoryIdOf(organ);
        if (label) want.set(label, (want.get(label) ?? 0) + 1);
      }
    }
    expect(count).toEqual(want);
  });

  it.skipIf(!hasTool('dciodvfy'))('dciodvfy finds no error in the RTSTRUCT or the SEG', () => {
    for (const kind of ['rtstruct', 'seg'])
      expect({ kind, errors: dciodvfyErrors(path.join(out, `${scanId}.${kind}.dcm`)) }).toEqual({
        kind,
        errors: [],
      });
  });

  it.skipIf(!PYTHON)(
    'pydicom reads the SEG: a binary segmentation with one frame per predicted organ slice',
    () => {
      const seg = reference<{ modality: string; type: string; frames: Array<{ instance: number }> }>(
        'seg',
        path.join(out, `${scanId}.seg.dcm`),
        path.join(out, `${scanId}.mr`),
      );
      expect([seg.modality, seg.type]).toEqual(['SEG', 'BINARY']);
      const frames = [...predicted.values()].reduce(
        (n, masks) => n + ORGANS.filter((o) => masks[o]?.some((v) => v !== 0)).length,
        0,
      );
      expect(seg.frames).toHaveLength(frames);
    },
  );
});
