import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allScans } from '../../main/core/types';
import { describeDataset, formatDatasetSummary, openDataset } from '../../main/imaging/open';
import { writePng16, writePngGray8 } from '../../main/imaging/png';
import { writeUwmgiSlice } from '../../main/imaging/uwmgi';
import { FIXTURES } from '../helpers/shared-data';

const tmp = mkdtempSync(path.join(tmpdir(), 'tractus-open-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const IMAGING = path.join(FIXTURES, 'imaging');

/** A 2×1×1 uint8 NIfTI-1 written byte by byte (layout from the NIfTI-1 header definition). */
function tinyNifti(): Uint8Array {
  const bytes = new Uint8Array(354);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, 348, true);
  [3, 2, 1, 1].forEach((d, n) => view.setInt16(40 + 2 * n, d, true));
  view.setInt16(70, 2, true);
  [1, 1, 1, 1].forEach((d, n) => view.setFloat32(76 + 4 * n, d, true));
  view.setFloat32(108, 352, true);
  bytes.set([0x6e, 0x2b, 0x31, 0], 344);
  bytes.set([7, 9], 352);
  return bytes;
}

describe('openDataset detects the kind of input', () => {
  it('DICOM folder, COCO file and the folder holding it, NIfTI file', async () => {
    const dicom = await openDataset(path.join(IMAGING, 'dicom'));
    expect(allScans(dicom).map((s) => s.source)).toEqual(['dicom', 'dicom']);
    const coco = await openDataset(path.join(IMAGING, 'site-sample/annotations.coco.json'));
    expect(allScans(coco)[0]!.source).toBe('coco');
    expect(allScans(await openDataset(path.join(IMAGING, 'site-sample')))[0]!.source).toBe('coco');
    writeFileSync(path.join(tmp, 'tiny.nii'), tinyNifti());
    expect(allScans(await openDataset(path.join(tmp, 'tiny.nii')))[0]!.source).toBe('nifti');
  });

  it('UW-Madison root and plain PNG folder', async () => {
    const uw = path.join(tmp, 'uw');
    await writeUwmgiSlice(uw, 'case1_day2', 5, { width: 2, height: 2, data: new Uint16Array(4) }, [1.5, 1.5]);
    expect(allScans(await openDataset(uw))[0]).toMatchObject({ id: 'case1_day2', source: 'uwmgi' });
    const plain = path.join(tmp, 'plain');
    for (const n of [1, 2, 11])
      await writePng16(path.join(plain, `im${n}.png`), { width: 2, height: 1, data: new Uint16Array(2) });
    const [scan] = allScans(await openDataset(plain));
    expect(scan).toMatchObject({ id: 'plain', source: 'png', intensity: 'uint16' });
    expect(scan!.slices.map((s) => s.id)).toEqual([
      'plain_slice_0001',
      'plain_slice_0002',
      'plain_slice_0011',
    ]);
  });

  it('says what it found when nothing fits, and when the path is missing', async () => {
    const odd = path.join(tmp, 'odd');
    mkdirSync(path.join(odd, 'sub'), { recursive: true });
    writeFileSync(path.join(odd, 'a.txt'), 'x');
    writeFileSync(path.join(odd, 'b.txt'), 'y');
    await expect(openDataset(odd)).rejects.toThrow(
      /odd: no images Tractus recognises: it holds 2 \.txt files, 1 folder/,
    );
    await expect(openDataset(path.join(tmp, 'absent'))).rejects.toThrow(/absent: not found/);
    await expect(openDataset(path.join(odd, 'a.txt'))).rejects.toThrow(/a\.txt: not a file Tractus reads/);
  });

  it('a CSV given for a non-UW input is reported as ignored', async () => {
    const plain = path.join(tmp, 'gray');
    await writePngGray8(path.join(plain, 'slice_0001.png'), { width: 1, height: 1, data: new Uint8Array(1) });
    const dataset = await openDataset(plain, { csv: 'train.csv' });
    expect(dataset.warnings).toEqual([{ where: 'train.csv', problem: expect.stringMatching(/ignored/) }]);
  });
});

describe('describeDataset', () => {
  it('counts patients, scans, slices and masked slices and formats them', async () => {
    const dataset = await openDataset(path.join(IMAGING, 'dicom'));
    const summary = describeDataset(dataset);
    // CT_small is one series; MR_small in 6 readable encodings (explicit/implicit LE, BE, RLE, JPEG-LS,
    // padded) another
    expect(summary).toMatchObject({
      patients: 2,
      scans: 2,
      slices: 7,
      maskedSlices: 0,
      sizes: { '128×128': 1, '64×64': 1 },
    });
    // 3 files skipped (truncated, no DICOM marker, RTSTRUCT), one 'repeat a slice position', and the CT
    // is not the axial abdominal MR the model was made for
    expect(summary.warnings).toBe(5);
    const text = formatDatasetSummary(summary);
    expect(text).toContain('2 patients, 2 studies, 2 scans, 7 slices (0 with masks)');
    expect(text).toContain(
      '4MR1_20040826_series1: dicom, 6 slices 64×64 int16, 0.3125×0.3125 mm, 0.8 mm slices',
    );
  });
});
