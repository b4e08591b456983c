/**
 * Compressed DICOM (JPEG, JPEG Lossless, JPEG-LS, JPEG 2000, HTJ2K) decoded by main/imaging/dicom-codecs.ts,
 * checked against files that independent tools wrote (test/helpers/dicom-encoders.ts): lossless ones must
 * equal the uncompressed source sample for sample (Tractus's reading of uncompressed DICOM is itself checked
 * against pydicom in imaging-dicom.test.ts), lossy ones must match the encoding tool's own decoder.
 */
import fc from 'fast-check';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInputError } from '../../main/core/errors';
import { allScans } from '../../main/core/types';
import { decodeDicomFrame, openDicomFolder, parseDicomFile } from '../../main/imaging/dicom';
import {
  CodecNotLoadedError,
  decodeCompressedFrame,
  jpegPrecision,
  loadJpeg12Codec,
  withDicomCodecs,
} from '../../main/imaging/dicom-codecs';
import { CASES, type EncodeCase, hasTool, make12BitCopy, missingFor } from '../helpers/dicom-encoders';
import { FIXTURES, describeWithSharedData, sharedPath } from '../helpers/shared-data';

const CODEC_FIXTURES = path.join(FIXTURES, 'imaging/dicom-codecs');
const MR16 = path.join(FIXTURES, 'imaging/dicom/MR_small.dcm');
const MR12 = path.join(CODEC_FIXTURES, 'MR_small_12bit.dcm');
const tmp = mkdtempSync(path.join(tmpdir(), 'tractus-codecs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// parseDicomFile/decodeDicomFrame are synchronous; the 12-bit JPEG codec instantiates asynchronously, once.
// (The first test below checks that the app's async readers load it on their own.)

function pixels(file: string): { width: number; height: number; values: Float64Array } {
  const image = decodeDicomFrame(readFileSync(file), file);
  return { width: image.width, height: image.height, values: Float64Array.from(image.data) };
}

/** A binary PGM (ojph_expand's output): 8-bit, or 16-bit big-endian when maxval > 255. */
function pgmValues(file: string): Float64Array {
  const bytes = readFileSync(file);
  const header = bytes.subarray(0, 64).toString('latin1');
  const match = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(header);
  if (!match) throw new Error(`${file}: not a binary PGM`);
  const [, w, h, maxval] = match.map(Number);
  const start = match[0].length;
  const n = w! * h!;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = maxval! > 255 ? bytes.readUInt16BE(start + i * 2) : bytes[start + i]!;
  }
  return out;
}

function maxDifference(a: Float64Array, b: Float64Array): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Peak signal-to-noise ratio of `a` against the original `b`, in dB (the peak is b's largest value). */
function psnr(a: Float64Array, b: Float64Array): number {
  let [squares, peak] = [0, 0];
  for (let i = 0; i < a.length; i++)
    [squares, peak] = [squares + (a[i]! - b[i]!) ** 2, Math.max(peak, b[i]!)];
  return squares === 0 ? Infinity : 10 * Math.log10((peak * peak) / (squares / a.length));
}

/** The whole check of one encoded file against its source (and the tool's decoding, when lossy). */
function checkEncoded(c: EncodeCase, file: string, source: string, reference: string | undefined) {
  const bytes = readFileSync(file);
  if (c.refused) {
    try {
      parseDicomFile(bytes, file);
      expect.unreachable(`${file} should be refused`);
    } catch (e) {
      expect(isInputError(e) && e.where).toBe(file);
      expect(isInputError(e) && e.problem).toMatch(c.refused);
    }
    return { max: NaN };
  }
  const content = parseDicomFile(bytes, file);
  expect(content.kind === 'image' && content.header.transferSyntax).toBe(c.syntax);
  const got = pixels(file);
  const src = pixels(source);
  expect([got.width, got.height]).toEqual([src.width, src.height]);
  if (c.lossless) {
    expect(maxDifference(got.values, src.values)).toBe(0);
    return { max: 0 };
  }
  const ref = reference!.endsWith('.pgm') ? pgmValues(reference!) : pixels(reference!).values;
  const toReference = maxDifference(got.values, ref);
  expect(toReference).toBeLessThanOrEqual(c.maxToReference!);
  if (c.maxToSource !== undefined) {
    expect(maxDifference(got.values, src.values)).toBeLessThanOrEqual(c.maxToSource);
  }
  if (c.minPsnr !== undefined) expect(psnr(got.values, src.values)).toBeGreaterThanOrEqual(c.minPsnr);
  return { max: toReference };
}

function fixtureSource(c: EncodeCase): string {
  // As test/helpers/dicom-encoders.ts made them: lossy and unsigned-only encoders from the 12-bit copy.
  return c.unsignedOnly || !c.lossless ? MR12 : MR16;
}

function fixtureReference(c: EncodeCase): string | undefined {
  if (c.lossless || c.refused) return undefined;
  return path.join(CODEC_FIXTURES, `${c.id}.ref.${c.id.startsWith('htj2k') ? 'pgm' : 'dcm'}`);
}

describe('compressed DICOM: committed files written by dcmtk, gdcm and OpenJPH', () => {
  it('a folder with 12-bit JPEG opens: the reader loads that codec when a file first needs it', async () => {
    const folder = path.join(tmp, 'jpeg12');
    mkdirSync(folder, { recursive: true });
    copyFileSync(path.join(CODEC_FIXTURES, 'jpeg-extended-12bit.dcm'), path.join(folder, 'MR1.dcm'));
    const direct = () => parseDicomFile(readFileSync(path.join(folder, 'MR1.dcm')), 'MR1.dcm');
    expect(direct).toThrow(CodecNotLoadedError); // nothing has loaded it yet in this file's module graph
    const [scan] = allScans(await openDicomFolder(folder));
    const image = await scan!.readSlice(0);
    const reference = pixels(path.join(CODEC_FIXTURES, 'jpeg-extended-12bit.ref.dcm')).values;
    expect(maxDifference(Float64Array.from(image.data), reference)).toBe(0);
    expect(direct().kind).toBe('image'); // loaded once, now synchronous
    await withDicomCodecs(direct);
    await loadJpeg12Codec(); // the same promise: no second instance
  });
  it('MR_small_12bit.dcm holds the same stored values as MR_small.dcm (only the header was relabelled)', () => {
    expect(maxDifference(pixels(MR12).values, pixels(MR16).values)).toBe(0);
  });
  for (const c of CASES) {
    it(`${c.id}.dcm (${c.lossless ? 'lossless' : c.refused ? 'refused' : 'lossy'})`, () => {
      checkEncoded(c, path.join(CODEC_FIXTURES, `${c.id}.dcm`), fixtureSource(c), fixtureReference(c));
    });
  }
});

describe('compressed DICOM: encoded in the test from the MR files of ../shared/data/dicom', () => {
  // A missing tool skips its cases with the reason in the test name; .ci/run installs them.
  const sources = [
    { id: '0051', file: () => sharedPath('dicom/dicom3tools/0051.dcm'), signed: false, shared: true },
    { id: 'MR_small', file: () => MR16, signed: true, shared: false },
    { id: 'MR_small_12bit', file: () => path.join(tmp, 'MR_small_12bit.dcm'), signed: false, shared: false },
    // An 8-bit source: the committed JPEG baseline slice as dcmdjpeg decoded it.
    {
      id: '8-bit',
      file: () => path.join(CODEC_FIXTURES, 'jpeg-baseline.ref.dcm'),
      signed: false,
      shared: false,
      eightBit: true,
    },
  ];
  beforeAll(() => {
    if (hasTool('dcmodify')) make12BitCopy(MR16, path.join(tmp, 'MR_small_12bit.dcm'));
  });
  const register = (source: (typeof sources)[number]) => {
    for (const c of CASES) {
      if (c.unsignedOnly && source.signed) continue;
      if (c.refused && 'eightBit' in source) continue; // 12-bit JPEG needs a source with more than 8 bits
      const missing =
        missingFor(c) ?? (source.id === 'MR_small_12bit' && !hasTool('dcmodify') ? 'dcmodify' : undefined);
      const name = `${c.id} from ${source.id}`;
      if (missing) {
        it.skip(`${name} [skipped: ${missing} not installed]`, () => {});
        continue;
      }
      // External encoders (and a Python start for HTJ2K) can take seconds each on a loaded 2-core machine.
      it(name, { timeout: 180_000 }, () => {
        const work = path.join(tmp, `${source.id}-${c.id}`);
        mkdirSync(work, { recursive: true });
        const out = path.join(work, `${c.id}.dcm`);
        const reference = c.encode(source.file(), out, work);
        checkEncoded(c, out, source.file(), reference);
      });
    }
  };
  for (const source of sources.filter((s) => !s.shared)) register(source);
  describeWithSharedData('the 360² dicom3tools MR (12-bit)', () => {
    for (const source of sources.filter((s) => s.shared)) register(source);
  });
});

describe('compressed DICOM: unreadable files give one reason text per cause', () => {
  it('a folder of refused and corrupt files: identical causes read identically, each file named once', async () => {
    const folder = path.join(tmp, 'mixed');
    mkdirSync(folder, { recursive: true });
    copyFileSync(MR16, path.join(folder, 'good.dcm'));
    for (let i = 1; i <= 3; i++) {
      copyFileSync(path.join(CODEC_FIXTURES, 'jpeg-progressive.dcm'), path.join(folder, `prog_${i}.dcm`));
    }
    // Two different files whose JPEG-LS codestreams are damaged at different places.
    const jls = readFileSync(path.join(CODEC_FIXTURES, 'jpeg-ls-lossless.dcm'));
    for (const [i, at] of [
      [1, 0.5],
      [2, 0.7],
    ] as const) {
      const bad = Buffer.from(jls);
      bad.fill(0xff, Math.floor(bad.length * at), Math.floor(bad.length * at) + 40);
      writeFileSync(path.join(folder, `jls_bad_${i}.dcm`), bad);
    }
    const dataset = await openDicomFolder(folder);
    expect(allScans(dataset).map((s) => s.slices.length)).toEqual([1]);
    const problems = new Map<string, string[]>();
    for (const w of dataset.warnings ?? []) {
      problems.set(w.problem, [...(problems.get(w.problem) ?? []), path.basename(w.where)]);
    }
    expect([...problems.values()].map((files) => files.sort())).toEqual([
      ['jls_bad_1.dcm', 'jls_bad_2.dcm'],
      ['prog_1.dcm', 'prog_2.dcm', 'prog_3.dcm'],
    ]);
    const [jlsBad, progressive] = [...problems.keys()];
    expect(progressive).toMatch(/JPEG Progressive \(retired\).*cannot decode.*convert it first/);
    expect(jlsBad).toBe('skipped: corrupt JPEG-LS Lossless data (the decoder rejected it)');
  });

  it('a folder where nothing is readable: one line per reason with its count and one example', async () => {
    const folder = path.join(tmp, 'unreadable');
    mkdirSync(folder, { recursive: true });
    for (let i = 1; i <= 20; i++) {
      copyFileSync(path.join(CODEC_FIXTURES, 'jpeg-progressive.dcm'), path.join(folder, `CT${i}.dcm`));
    }
    const oneReason = openDicomFolder(folder);
    await expect(oneReason).rejects.toThrow(
      /^\S+unreadable: no readable DICOM images — 20 files: compressed with JPEG Progressive \(retired\) \(1\.2\.840\.10008\.1\.2\.4\.55\), .*convert it first.*; e\.g\. CT1\.dcm$/,
    );
    copyFileSync(path.join(FIXTURES, 'imaging/dicom/rtstruct.dcm'), path.join(folder, 'rtstruct.dcm'));
    const message = await openDicomFolder(folder).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(message.split('\n')).toEqual([
      expect.stringMatching(/unreadable: no readable DICOM images$/),
      expect.stringMatching(
        /^ {2}20 files: compressed with JPEG Progressive \(retired\).*; e\.g\. CT1\.dcm$/,
      ),
      expect.stringMatching(/^ {2}rtstruct\.dcm: no pixel data \(a RTSTRUCT object\), not an image$/),
    ]);
  });

  it('a syntax without a decoder is refused by name before any decoding', () => {
    expect(() =>
      decodeCompressedFrame(
        new Uint8Array(8),
        '1.2.840.10008.1.2.4.100',
        { rows: 1, columns: 1, bitsAllocated: 8 },
        'v.dcm',
      ),
    ).toThrow(
      /^v\.dcm: compressed with MPEG-2 video \(1\.2\.840\.10008\.1\.2\.4\.100\), which Tractus cannot decode/,
    );
  });

  it('reads the sample precision from the JPEG start-of-frame marker', () => {
    const frame = (file: string) => {
      const bytes = readFileSync(path.join(CODEC_FIXTURES, file));
      return bytes.subarray(bytes.indexOf(Buffer.from([0xff, 0xd8, 0xff])));
    };
    expect(jpegPrecision(frame('jpeg-baseline.dcm'))).toBe(8);
    expect(jpegPrecision(frame('jpeg-extended-12bit.dcm'))).toBe(12);
    expect(jpegPrecision(frame('jpeg-lossless-sv1.dcm'))).toBe(16);
  });
});

describe('compressed DICOM: damaged files are InputErrors, never crashes', () => {
  const decodable = CASES.filter((c) => !c.refused && c.id !== 'rle');
  for (const c of decodable) {
    it(`corrupted and cut copies of ${c.id}.dcm, and the codec still works afterwards`, () => {
      const file = path.join(CODEC_FIXTURES, `${c.id}.dcm`);
      const good = readFileSync(file);
      // Damage only the pixel data (the header is the other tests' subject): the last two thirds of the file.
      const from = Math.floor(good.length / 3);
      fc.assert(
        fc.property(
          fc.array(
            fc.tuple(fc.integer({ min: from, max: good.length - 1 }), fc.integer({ min: 0, max: 255 })),
            {
              minLength: 1,
              maxLength: 6,
            },
          ),
          fc.integer({ min: from, max: good.length }),
          (edits, cut) => {
            const bytes = new Uint8Array(good.subarray(0, cut));
            for (const [at, v] of edits) if (at < bytes.length) bytes[at] = v;
            try {
              parseDicomFile(bytes, 'fuzz.dcm');
              return true;
            } catch (e) {
              return isInputError(e) && e.where === 'fuzz.dcm';
            }
          },
        ),
        { numRuns: 40 },
      );
      checkEncoded(c, file, fixtureSource(c), fixtureReference(c));
    });
  }
});
