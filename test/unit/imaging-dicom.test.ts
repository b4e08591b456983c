import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, isInputError } from '../../main/core/errors';
import { allScans, type PixelArray } from '../../main/core/types';
import { decodeDicomFrame, openDicomFile, openDicomFolder, parseDicomFile } from '../../main/imaging/dicom';
import { decodeDicomRle, decodePackBits } from '../../main/imaging/dicom-rle';
import { FIXTURES, describeWithSharedData, hasSharedData, sharedPath } from '../helpers/shared-data';
import { pythonWith, runReference, type ReferenceStats } from './imaging-reference';

const DICOM_FIXTURES = path.join(FIXTURES, 'imaging/dicom');
const python = pythonWith(['numpy', 'pydicom']);
const tmp = mkdtempSync(path.join(tmpdir(), 'tractus-dicom-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function stats(data: PixelArray) {
  const f = Float64Array.from(data);
  let [min, max, sum] = [Infinity, -Infinity, 0];
  for (const v of f) [min, max, sum] = [Math.min(min, v), Math.max(max, v), sum + v];
  return { min, max, sum, sha256: createHash('sha256').update(new Uint8Array(f.buffer)).digest('hex') };
}

/**
 * What each real file must do: load (and match pydicom) or be refused with this reason. `sameAs`: pydicom
 * cannot decode this one here (no JPEG-LS plugin in Debian), so it must equal pydicom's reading of that file,
 * its uncompressed original.
 */
const EXPECTED: Record<string, { refused?: RegExp; noImage?: RegExp; intensity?: string; sameAs?: string }> =
  {
    'CT_small.dcm': { intensity: 'int16' },
    'MR_small.dcm': { intensity: 'int16' },
    'MR_small_RLE.dcm': { intensity: 'int16' },
    'MR_small_bigendian.dcm': { intensity: 'int16' },
    'MR_small_implicit.dcm': { intensity: 'int16' },
    'MR_small_padded.dcm': { intensity: 'int16' },
    'MR_small_jpeg_ls_lossless.dcm': { intensity: 'int16', sameAs: 'MR_small.dcm' },
    'MR_truncated.dcm': { refused: /truncated/ },
    'no_meta.dcm': { refused: /not a DICOM file/ },
    'rtstruct.dcm': { noImage: /no pixel data \(a RTSTRUCT object\)/ },
    '0051.dcm': { intensity: 'uint16' },
  };

/** pydicom's view of every real file, fetched in one Python run (each start costs ~0.5 s). */
let referenceCache: Record<string, ReferenceStats> | undefined;
function pydicomStats(file: string): ReferenceStats {
  if (!referenceCache) {
    const files = readdirSync(DICOM_FIXTURES).map((n) => path.join(DICOM_FIXTURES, n));
    if (hasSharedData) files.push(sharedPath('dicom/dicom3tools/0051.dcm'));
    for (const n of hasSharedData ? readdirSync(sharedPath('dicom/pydicom')) : []) {
      if (n.endsWith('.dcm')) files.push(sharedPath('dicom/pydicom', n));
    }
    referenceCache = runReference(python!, ['dicom', ...files]) as Record<string, ReferenceStats>;
  }
  return (
    referenceCache[file] ?? (runReference(python!, ['dicom', file]) as Record<string, ReferenceStats>)[file]!
  );
}

async function checkFile(file: string) {
  const expected = EXPECTED[path.basename(file)]!;
  const bytes = readFileSync(file);
  if (expected.refused) {
    expect(() => parseDicomFile(bytes, file)).toThrow(InputError);
    try {
      parseDicomFile(bytes, file);
    } catch (e) {
      expect((e as InputError).where).toBe(file);
      expect((e as InputError).problem).toMatch(expected.refused);
    }
    await expect(openDicomFile(file)).rejects.toThrow(expected.refused);
    return;
  }
  const content = parseDicomFile(bytes, file);
  if (expected.noImage) {
    expect(content).toMatchObject({ kind: 'no-image', reason: expect.stringMatching(expected.noImage) });
    return;
  }
  const dataset = await openDicomFile(file);
  const [scan] = allScans(dataset);
  expect(scan!.intensity).toBe(expected.intensity);
  const image = await scan!.readSlice(0);
  if (python) {
    const ref = pydicomStats(expected.sameAs ? path.join(path.dirname(file), expected.sameAs) : file);
    expect([image.width, image.height]).toEqual([ref.width, ref.height]);
    expect(stats(image.data)).toEqual({ min: ref.min, max: ref.max, sum: ref.sum, sha256: ref.sha256 });
  }
}

describe('DICOM: every fixture loads with pydicom-equal pixels or is refused by name', () => {
  for (const name of readdirSync(DICOM_FIXTURES)) {
    it(name, async () => checkFile(path.join(DICOM_FIXTURES, name)));
  }
});

describeWithSharedData('DICOM: every file in ../shared/data/dicom', () => {
  for (const sub of ['pydicom', 'dicom3tools']) {
    for (const name of readdirSync(sharedPath('dicom', sub)).filter((n) => n.endsWith('.dcm'))) {
      it(`${sub}/${name}`, async () => checkFile(sharedPath('dicom', sub, name)));
    }
  }

  it('the whole pydicom folder opens; refused and pixel-less files become warnings naming them', async () => {
    const dataset = await openDicomFolder(sharedPath('dicom/pydicom'));
    const scans = allScans(dataset);
    // MR_small in six readable encodings is one series; CT_small another.
    expect(scans.map((s) => [s.patientId, s.slices.length])).toEqual([
      ['1CT1', 1],
      ['4MR1', 6],
    ]);
    const warned = (dataset.warnings ?? []).map((w) => path.basename(w.where)).sort();
    expect(warned).toEqual(['4MR1_20040826_series1', 'MR_truncated.dcm', 'no_meta.dcm', 'rtstruct.dcm']);
  });

  it('keeps the header facts of the 360² dicom3tools MR', async () => {
    const [scan] = allScans(await openDicomFolder(sharedPath('dicom/dicom3tools')));
    expect(scan).toMatchObject({
      patientId: 'crlab',
      day: '20181218',
      description: 'pasl_2d',
      pixelSpacing: [3, 3],
      sliceThickness: 5,
      sliceSpacing: 6.0000000136504,
      width: 360,
      height: 360,
    });
  });
});

describe.skipIf(!python)('DICOM: series ordering and rescale (series written by pydicom)', () => {
  it('orders along the tilted slice normal, falls back to InstanceNumber, rescales to float32, reads frames', async () => {
    const folder = path.join(tmp, 'series');
    runReference(python!, ['dicom-series', path.join(DICOM_FIXTURES, 'MR_small.dcm'), folder]);
    copyFileSync(path.join(DICOM_FIXTURES, 'rtstruct.dcm'), path.join(folder, 'rtstruct.dcm'));
    writeFileSync(path.join(folder, 'README.txt'), 'not dicom');
    const dataset = await openDicomFolder(folder);
    const [tilted, unpositioned, multiframe] = allScans(dataset);
    expect(multiframe!.slices.length).toBe(2);
    expect([(await multiframe!.readSlice(0)).data[0], (await multiframe!.readSlice(1)).data[0]]).toEqual([
      3000, 3001,
    ]);
    expect(tilted!.id).toBe('4MR1_20040826_series7');
    expect(tilted!.description).toBe('tilted');
    expect(tilted!.sliceSpacing).toBeCloseTo(2.5, 4);
    const firstPixels = [];
    for (let i = 0; i < tilted!.slices.length; i++) firstPixels.push((await tilted!.readSlice(i)).data[0]);
    expect(firstPixels).toEqual([1000, 1001, 1002, 1003]);
    expect(unpositioned!.intensity).toBe('float32');
    const b = [];
    for (let i = 0; i < 3; i++) b.push((await unpositioned!.readSlice(i)).data[0]);
    expect(b).toEqual([2001 * 0.5 + 0.25, 2002 * 0.5 + 0.25, 2003 * 0.5 + 0.25]);
    expect(dataset.warnings).toEqual([
      { where: path.join(folder, 'rtstruct.dcm'), problem: expect.stringMatching(/no pixel data/) },
    ]);
    const file = path.join(folder, 'b_1.dcm');
    const ref = (runReference(python!, ['dicom', file]) as Record<string, ReferenceStats>)[file]!;
    const decoded = decodeDicomFrame(readFileSync(file), file);
    expect(decoded.data).toBeInstanceOf(Float32Array);
    expect(stats(decoded.data)).toEqual({ min: ref.min, max: ref.max, sum: ref.sum, sha256: ref.sha256 });
  });
});

describe('DICOM RLE (PackBits) decoder', () => {
  it('decodes literal, repeat and no-op runs (PS3.5 G.3.1, hand-computed)', () => {
    const out = new Uint8Array(7);
    // literal 2 bytes [5,6], no-op, repeat 9 four times (-3), literal 1 byte [1]
    decodePackBits(new Uint8Array([1, 5, 6, 0x80, 0xfd, 9, 0, 1]), out, 'x');
    expect(Array.from(out)).toEqual([5, 6, 9, 9, 9, 9, 1]);
  });

  it('puts the high-byte segment first for 16-bit samples', () => {
    // two 16-bit pixels 0x0102, 0x0304: segment 1 = high bytes [1,3], segment 2 = low bytes [2,4]
    const frame = new Uint8Array(64 + 6);
    const view = new DataView(frame.buffer);
    view.setUint32(0, 2, true);
    view.setUint32(4, 64, true);
    view.setUint32(8, 67, true);
    frame.set([1, 1, 3, 1, 2, 4], 64);
    expect(Array.from(decodeDicomRle(frame, 2, 1, 16, 'x'))).toEqual([2, 1, 4, 3]);
  });

  it('random segments never crash', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 1, max: 64 }), (bytes, pixels) => {
        try {
          decodeDicomRle(bytes, pixels, 1, 16, 'fuzz.dcm');
          return true;
        } catch (e) {
          return isInputError(e) && e.where === 'fuzz.dcm';
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('DICOM: malformed files are InputErrors, never crashes', () => {
  const clean = (bytes: Uint8Array) => {
    try {
      parseDicomFile(bytes, 'fuzz.dcm');
      return true;
    } catch (e) {
      return isInputError(e) && e.where === 'fuzz.dcm';
    }
  };
  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 400 }), clean), { numRuns: 300 });
    // with a DICM marker, so the parser goes deeper
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (tail) => {
        const bytes = new Uint8Array(132 + tail.length);
        bytes.set([0x44, 0x49, 0x43, 0x4d], 128);
        bytes.set(tail, 132);
        return clean(bytes);
      }),
      { numRuns: 300 },
    );
  });
  it('a copy cut inside an element dicom-parser reads lazily (found by fuzzing: 602 bytes)', () => {
    const cut = readFileSync(path.join(DICOM_FIXTURES, 'MR_small_implicit.dcm')).subarray(0, 602);
    expect(() => parseDicomFile(new Uint8Array(cut), 'cut.dcm')).toThrow(
      /cut\.dcm: truncated or corrupt DICOM/,
    );
  });
  for (const name of [
    'MR_small.dcm',
    'MR_small_RLE.dcm',
    'MR_small_bigendian.dcm',
    'MR_small_implicit.dcm',
  ]) {
    it(`corrupted and cut copies of ${name}`, () => {
      const good = readFileSync(path.join(DICOM_FIXTURES, name));
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
          fc.integer({ min: 0, max: good.length }),
          (edits, cut) => {
            const bytes = new Uint8Array(good.subarray(0, Math.max(cut, 1)));
            for (const [at, v] of edits) if (at < bytes.length) bytes[at] = v;
            return clean(bytes);
          },
        ),
        { numRuns: 200 },
      );
    });
  }
});
