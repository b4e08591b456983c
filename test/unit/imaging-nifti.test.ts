import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInputError } from '../../main/core/errors';
import { allScans, type Scan } from '../../main/core/types';
import { openDicomFolder } from '../../main/imaging/dicom';
import { decodeNifti, openNifti } from '../../main/imaging/nifti';
import { FIXTURES } from '../helpers/shared-data';
import { pythonWith, runReference } from './imaging-reference';

const python = pythonWith(['numpy', 'nibabel']);
const tmp = mkdtempSync(path.join(tmpdir(), 'tractus-nifti-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Where the marker voxel (i, j, k) = (1, 2, 0) of the 5×4×3 volume must appear, worked out by hand:
 * columns run patient right → left (−x: NIfTI's RAS+ world has +x toward patient RIGHT), rows anterior →
 * posterior (−y), slices inferior → superior (+z). */
const EXPECTED: Record<string, { slice: number; row: number; col: number; size: [number, number, number] }> =
  {
    // i → +x (toward patient right): col = (5 − 1) − 1 = 3; j → +y: row = (4 − 1) − 2 = 1; k → +z: slice = 0
    ras: { slice: 0, row: 1, col: 3, size: [5, 4, 3] },
    // i → −x (toward patient left, as displayed): col = i = 1
    las: { slice: 0, row: 1, col: 1, size: [5, 4, 3] },
    // j → −y already runs posterior: row = j = 2; k → −z: slice = (3 − 1) − 0 = 2
    lpi: { slice: 2, row: 2, col: 1, size: [5, 4, 3] },
    // i → −y (rows, 5 of them): row = 1; j → +z (4 slices): slice = 2; k → +x (3 columns): col = (3 − 1) − 0 = 2
    permuted: { slice: 2, row: 1, col: 2, size: [3, 5, 4] },
  };

async function markerPosition(scan: Scan) {
  const hits: { slice: number; row: number; col: number; value: number }[] = [];
  for (let s = 0; s < scan.slices.length; s++) {
    const image = await scan.readSlice(s);
    image.data.forEach((v, n) => {
      if (v !== 0) hits.push({ slice: s, row: Math.floor(n / image.width), col: n % image.width, value: v });
    });
  }
  return hits;
}

describe.skipIf(!python)('NIfTI: volumes written by nibabel land in radiological display order', () => {
  beforeAll(() => {
    runReference(python!, ['nifti-write', tmp]);
  });

  const cases: [file: string, orientation: keyof typeof EXPECTED, intensity: string][] = [
    ['ras.nii', 'ras', 'int16'],
    ['las.nii', 'las', 'int16'],
    ['lpi.nii', 'lpi', 'int16'],
    ['permuted.nii', 'permuted', 'int16'],
    ['las.nii.gz', 'las', 'int16'],
    ['las_qform_only.nii', 'las', 'int16'],
    ['las_nifti2.nii', 'las', 'int16'],
    ['ras_bigendian.nii', 'ras', 'int16'],
    ['ras_uint8.nii', 'ras', 'uint8'],
    ['ras_uint16.nii', 'ras', 'uint16'],
    ['ras_int32.nii', 'ras', 'int16'],
    ['ras_float32.nii', 'ras', 'float32'],
    ['ras_float64.nii', 'ras', 'float32'],
  ];
  for (const [file, orientation, intensity] of cases) {
    it(`${file}: marker at the ${orientation.toUpperCase()} position, ${intensity}`, async () => {
      const dataset = await openNifti(path.join(tmp, file));
      const [scan] = allScans(dataset);
      const want = EXPECTED[orientation]!;
      expect([scan!.width, scan!.height, scan!.slices.length]).toEqual(want.size);
      expect(scan!.intensity).toBe(intensity);
      expect(await markerPosition(scan!)).toEqual([
        { slice: want.slice, row: want.row, col: want.col, value: 100 },
      ]);
      expect(scan!.source).toBe('nifti');
    });
  }

  it('keeps voxel sizes: rows 3 mm (y), columns 2 mm (x), slices 4 mm (z), also when permuted', async () => {
    for (const file of ['ras.nii', 'permuted.nii']) {
      const [scan] = allScans(await openNifti(path.join(tmp, file)));
      expect(scan).toMatchObject({ pixelSpacing: [3, 2], sliceThickness: 4, sliceSpacing: 4 });
    }
  });

  it('applies scl_slope/scl_inter (0.5, 10): marker 100 → 60, background 0 → 10', async () => {
    const [scan] = allScans(await openNifti(path.join(tmp, 'ras_scaled.nii')));
    const image = await scan!.readSlice(0);
    expect(image.data[1 * 5 + 3]).toBe(60); // RAS: column mirrored, see EXPECTED.ras
    expect(image.data[0]).toBe(10);
  });

  it('truncated and corrupted files are InputErrors naming the file', () => {
    const good = readFileSync(path.join(tmp, 'ras.nii'));
    expect(() => decodeNifti(good.subarray(0, good.length - 10), 'cut.nii')).toThrow(
      /cut\.nii: truncated voxel data/,
    );
    const gz = gzipSync(good);
    expect(() => decodeNifti(gz.subarray(0, gz.length >> 1), 'cut.nii.gz')).toThrow(/cut\.nii\.gz: corrupt/);
    const clean = (bytes: Uint8Array) => {
      try {
        decodeNifti(bytes, 'fuzz.nii');
        return true;
      } catch (e) {
        return isInputError(e) && e.where === 'fuzz.nii';
      }
    };
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.integer({ min: 0, max: good.length }),
        (edits, cut) => {
          const bytes = new Uint8Array(good.subarray(0, cut));
          for (const [at, v] of edits) if (at < bytes.length) bytes[at] = v;
          return clean(bytes);
        },
      ),
      { numRuns: 400 },
    );
  });
});

/** Every slice of a scan as [slice][row][col]. */
async function displayVolume(scan: Scan): Promise<number[][][]> {
  const out: number[][][] = [];
  for (let s = 0; s < scan.slices.length; s++) {
    const image = await scan.readSlice(s);
    const rows: number[][] = [];
    for (let r = 0; r < image.height; r++)
      rows.push(Array.from(image.data.subarray(r * image.width, (r + 1) * image.width)));
    out.push(rows);
  }
  return out;
}

/** Mean column and row of the pixels equal to `value` on slice 0. */
function centroid(volume: number[][][], value: number): { col: number; row: number } {
  let [n, col, row] = [0, 0, 0];
  volume[0]!.forEach((line, r) =>
    line.forEach((v, c) => {
      if (v === value) [n, col, row] = [n + 1, col + c, row + r];
    }),
  );
  return { col: col / n, row: row / n };
}

describe.skipIf(!python)('NIfTI laterality: patient right on the image left, checked against nibabel', () => {
  const anatomyDir = path.join(tmp, 'anatomy');
  let reference: Record<
    string,
    { axcodes: string; liverWorldX: number; spleenWorldX: number; display: number[][][] }
  > = {};
  beforeAll(() => {
    reference = runReference(python!, [
      'nifti-anatomy',
      path.join(FIXTURES, 'imaging/dicom/MR_small.dcm'),
      anatomyDir,
    ]) as typeof reference;
  });

  for (const code of ['RAS', 'LPS', 'LAS', 'LPI', 'PIR', 'SRA']) {
    it(`${code}-stored volume: liver (nibabel world x > 0 = patient right) on the image left`, async () => {
      const want = reference[`anatomy_${code}.nii`]!;
      expect(want.axcodes).toBe(code);
      expect(want.liverWorldX).toBeGreaterThan(0);
      expect(want.spleenWorldX).toBeLessThan(0);
      const [scan] = allScans(await openNifti(path.join(anatomyDir, `anatomy_${code}.nii`)));
      const shown = await displayVolume(scan!);
      expect(shown).toEqual(want.display);
      const width = scan!.width;
      expect(centroid(shown, 200).col).toBeLessThan(width / 2); // liver: image left
      expect(centroid(shown, 100).col).toBeGreaterThan(width / 2); // spleen: image right
      expect(centroid(shown, 150).row).toBeLessThan(scan!.height / 2); // stomach: anterior, top
      expect(shown[scan!.slices.length - 1]!.flat()).toContain(50); // superior marker on the last slice
      expect(scan!.orientation).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P', assumed: false });
    });
  }

  it('the same patient written as axial DICOM (pydicom, LPS storage) is displayed identically', async () => {
    const [dicomScan] = allScans(await openDicomFolder(path.join(anatomyDir, 'anatomy_dicom')));
    const [niftiScan] = allScans(await openNifti(path.join(anatomyDir, 'anatomy_RAS.nii')));
    expect(await displayVolume(dicomScan!)).toEqual(await displayVolume(niftiScan!));
    expect(dicomScan!.orientation).toEqual(niftiScan!.orientation);
  });
});

describe('NIfTI: bad input', () => {
  it('random bytes are an InputError, never a crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          decodeNifti(bytes, 'fuzz.nii');
          return true;
        } catch (e) {
          return isInputError(e) && e.where === 'fuzz.nii';
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a 348-byte header with a hand-written layout decodes (no Python needed)', async () => {
    // NIfTI-1, little endian, 2×1×1 uint8, identity orientation from pixdim (assumed RAS: i → patient
    // right, so the second voxel is shown first); voxels [7, 9]
    const bytes = new Uint8Array(352 + 2);
    const view = new DataView(bytes.buffer);
    view.setInt32(0, 348, true);
    [3, 2, 1, 1].forEach((d, n) => view.setInt16(40 + 2 * n, d, true));
    view.setInt16(70, 2, true); // uint8
    view.setInt16(72, 8, true);
    [1, 1, 1, 1].forEach((d, n) => view.setFloat32(76 + 4 * n, d, true));
    view.setFloat32(108, 352, true);
    bytes.set([0x6e, 0x2b, 0x31, 0], 344); // "n+1\0"
    bytes.set([7, 9], 352);
    const file = path.join(tmp, 'tiny.nii');
    writeFileSync(file, bytes);
    const dataset = await openNifti(file);
    const [scan] = allScans(dataset);
    expect(Array.from((await scan!.readSlice(0)).data)).toEqual([9, 7]);
    expect(dataset.warnings?.[0]?.problem).toMatch(/orientation unknown/);
    expect(scan!.orientation).toMatchObject({ left: 'R', right: 'L', assumed: true });
  });
});
