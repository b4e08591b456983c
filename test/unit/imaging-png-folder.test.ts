import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { allScans } from '../../main/core/types';
import { writePngGray8 } from '../../main/imaging/png';
import { openPngFolder, sliceNumberInName, sliceNumbers } from '../../main/imaging/png-folder';
import { describeWithSharedData, sharedPath } from '../helpers/shared-data';

const tmp = mkdtempSync(path.join(tmpdir(), 'tractus-pngdir-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('plain PNG folders', () => {
  it('numbers slices from their names, else by position', () => {
    expect(sliceNumberInName('slice_0042_266_266_1.50_1.50.png')).toBe(42);
    expect(sliceNumberInName('IM-0001-0017.png')).toBe(17);
    expect(sliceNumberInName('axial.png')).toBeUndefined();
    expect(sliceNumbers(['a2.png', 'a10.png'])).toEqual([2, 10]);
    expect(sliceNumbers(['a1.png', 'b1.png'])).toEqual([1, 2]); // the same number twice: positions
  });

  it('a caseN_dayD folder keeps its ids; slices in natural order; 8-bit → uint8', async () => {
    const dir = path.join(tmp, 'case5_day9');
    for (const n of [10, 9, 100]) {
      await writePngGray8(path.join(dir, `slice_${n}.png`), {
        width: 2,
        height: 2,
        data: new Uint8Array(4).fill(n),
      });
    }
    writeFileSync(path.join(dir, 'notes.txt'), 'ignored');
    const [scan] = allScans(await openPngFolder(dir));
    expect(scan).toMatchObject({ id: 'case5_day9', patientId: 'case5', day: 'day9', intensity: 'uint8' });
    expect(scan!.slices.map((s) => s.number)).toEqual([9, 10, 100]);
    expect(Array.from((await scan!.readSlice(2)).data)).toEqual([100, 100, 100, 100]);
  });

  it('slices of different sizes, an empty folder and a corrupt PNG are InputErrors naming the file', async () => {
    const mixed = path.join(tmp, 'mixed');
    await writePngGray8(path.join(mixed, '1.png'), { width: 2, height: 2, data: new Uint8Array(4) });
    await writePngGray8(path.join(mixed, '2.png'), { width: 3, height: 2, data: new Uint8Array(6) });
    await expect(openPngFolder(mixed)).rejects.toThrow(/2\.png: is 3×2 but .*1\.png is 2×2/);
    const empty = mkdtempSync(path.join(tmp, 'empty-'));
    await expect(openPngFolder(empty)).rejects.toThrow(/no PNG files/);
    const bad = path.join(tmp, 'bad');
    await writePngGray8(path.join(bad, '1.png'), { width: 2, height: 2, data: new Uint8Array(4) });
    writeFileSync(path.join(bad, '2.png'), 'not a png');
    await expect(openPngFolder(bad)).rejects.toThrow(/2\.png: not a PNG file/);
  });
});

describe('PNG folder of caseN_dayD_slice_NNNN.png files', () => {
  it('is split into one scan per case-day by the ids in the names', async () => {
    const dir = path.join(tmp, 'named-slices');
    for (const name of [
      'case1_day1_slice_0002.png',
      'case1_day1_slice_0001.png',
      'case22_day3_slice_0040.png',
    ]) {
      await writePngGray8(path.join(dir, name), { width: 2, height: 1, data: new Uint8Array([1, 2]) });
    }
    const dataset = await openPngFolder(dir);
    expect(dataset.patients.map((p) => p.id)).toEqual(['case1', 'case22']);
    expect(allScans(dataset).map((s) => [s.id, s.day, s.slices.map((sl) => sl.id)])).toEqual([
      ['case1_day1', 'day1', ['case1_day1_slice_0001', 'case1_day1_slice_0002']],
      ['case22_day3', 'day3', ['case22_day3_slice_0040']],
    ]);
  });
});

describeWithSharedData('PNG folder: the real site-sample images', () => {
  it('16 slices of six patients open as six patients, not one scan', async () => {
    const dataset = await openPngFolder(sharedPath('site-sample/images'));
    expect(dataset.patients.map((p) => p.id)).toEqual([
      'case11',
      'case101',
      'case107',
      'case110',
      'case113',
      'case114',
    ]);
    expect(allScans(dataset).reduce((n, s) => n + s.slices.length, 0)).toBe(16);
  });
});
