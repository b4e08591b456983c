import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { decode, encode } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { isInputError } from '../../main/core/errors';
import type { PixelArray } from '../../main/core/types';
import {
  decodePng,
  decodePngPixels,
  readPngSlice,
  writePng16,
  writePngGray8,
  writePngRgb,
} from '../../main/imaging/png';
import { FIXTURES, describeWithSharedData, sharedPath } from '../helpers/shared-data';
import { pythonWith, runReference, type ReferenceStats } from './imaging-reference';

/** Same statistics the Python reference prints: values as little-endian float64, hashed. */
function stats(data: PixelArray) {
  const f = Float64Array.from(data);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const v of f) {
    min = Math.min(min, v);
    max = Math.max(max, v);
    sum += v;
  }
  const sha256 = createHash('sha256').update(new Uint8Array(f.buffer)).digest('hex');
  return { min, max, sum, sha256 };
}

const tmp = mkdtempSync(path.join(tmpdir(), 'tractus-png-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const python = pythonWith(['numpy', 'PIL']);

async function expectSameAsPillow(file: string) {
  const image = await readPngSlice(file);
  expect(image.data).toBeInstanceOf(Uint16Array);
  const ref = runReference(python!, ['png', file]) as ReferenceStats;
  expect([image.width, image.height]).toEqual([ref.width, ref.height]);
  expect(stats(image.data)).toEqual({ min: ref.min, max: ref.max, sum: ref.sum, sha256: ref.sha256 });
}

describe('PNG: real 16-bit fixture against Pillow', () => {
  it.skipIf(!python)('raw16_slice_0001.png keeps every 16-bit value', async () => {
    await expectSameAsPillow(path.join(FIXTURES, 'imaging/raw16_slice_0001.png'));
  });
});

describeWithSharedData('PNG: real 16-bit slices against Pillow', () => {
  for (const name of ['slice_0001.png', 'test_image14.png']) {
    it.skipIf(!python)(`${name} keeps every 16-bit value`, async () => {
      await expectSameAsPillow(sharedPath('raw16', name));
    });
  }
  it('reads the 8-bit site-sample image as Uint8Array', async () => {
    const image = await readPngSlice(sharedPath('site-sample/images/case101_day20_slice_0078.png'));
    expect(image.data).toBeInstanceOf(Uint8Array);
    expect([image.width, image.height]).toEqual([512, 512]);
  });
});

describe('PNG: colour models reduce to gray', () => {
  it('RGB and RGBA become BT.601 luminance, gray+alpha keeps gray', () => {
    // pure red, green, blue, white: 0.299·255 = 76.2, 0.587·255 = 149.7, 0.114·255 = 29.1
    const rgb = new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255]);
    const fromRgb = decodePng(encode({ width: 2, height: 2, data: rgb, channels: 3, depth: 8 }), 'rgb.png');
    expect(Array.from(fromRgb.data)).toEqual([76, 150, 29, 255]);
    const rgba = new Uint8Array([255, 0, 0, 9, 0, 255, 0, 9, 0, 0, 255, 9, 255, 255, 255, 9]);
    const fromRgba = decodePng(encode({ width: 2, height: 2, data: rgba, channels: 4, depth: 8 }), 'a.png');
    expect(Array.from(fromRgba.data)).toEqual([76, 150, 29, 255]);
    const ga = new Uint8Array([10, 0, 20, 255]);
    const fromGa = decodePng(encode({ width: 2, height: 1, data: ga, channels: 2, depth: 8 }), 'ga.png');
    expect(Array.from(fromGa.data)).toEqual([10, 20]);
  });

  it('palette PNGs expand through the palette', () => {
    const palette = [
      [0, 0, 0],
      [255, 255, 255],
      [255, 0, 0],
    ];
    const bytes = encode({
      width: 3,
      height: 1,
      data: new Uint8Array([2, 1, 0]),
      channels: 1,
      depth: 8,
      palette,
    });
    expect(Array.from(decodePng(bytes, 'pal.png').data)).toEqual([76, 255, 0]);
    const pixels = decodePngPixels(bytes, 'pal.png');
    expect(pixels.channels).toBe(3);
    expect(Array.from(pixels.data)).toEqual([255, 0, 0, 255, 255, 255, 0, 0, 0]);
  });

  it('1-bit gray stretches to 0/255', () => {
    // 3 pixels 1,0,1 packed MSB first: 0b1010_0000
    const bytes = encode({ width: 3, height: 1, data: new Uint8Array([0b10100000]), channels: 1, depth: 1 });
    expect(Array.from(decodePng(bytes, 'bits.png').data)).toEqual([255, 0, 255]);
  });
});

/** A grayscale PNG whose rows use the given filters (cycled), its pixel data split over two IDAT chunks. */
function filteredGrayPng(width: number, height: number, depth: 8 | 16, filters: number[], seed: number) {
  const bpp = depth / 8;
  const rowBytes = width * bpp;
  const plain = new Uint8Array(height * rowBytes);
  let s = seed;
  for (let i = 0; i < plain.length; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    plain[i] = (s >> 8) & 0xff;
  }
  const filtered = new Uint8Array(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    const f = filters[y % filters.length]!;
    filtered[y * (rowBytes + 1)] = f;
    for (let x = 0; x < rowBytes; x++) {
      const at = (dy: number, dx: number) =>
        y + dy < 0 || x + dx < 0 ? 0 : plain[(y + dy) * rowBytes + x + dx]!;
      const [a, b, c] = [at(0, -bpp), at(-1, 0), at(-1, -bpp)];
      const p = a + b - c;
      const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
      const predictor = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][f]!;
      filtered[y * (rowBytes + 1) + 1 + x] = (plain[y * rowBytes + x]! - predictor) & 0xff;
    }
  }
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    out.set(Buffer.from(type, 'latin1'), 4);
    out.set(data, 8);
    view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([depth, 0, 0, 0, 0], 8);
  const z = deflateSync(filtered);
  const half = z.length >> 1;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', z.subarray(0, half)),
    chunk('IDAT', z.subarray(half)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

describe('PNG: grayscale through native zlib', () => {
  it('decodes every row filter at 8 and 16 bits to the pixels fast-png decodes', () => {
    for (const depth of [8, 16] as const) {
      for (const filters of [[0], [1], [2], [3], [4], [4, 3, 2, 1, 0]]) {
        const png = filteredGrayPng(13, 9, depth, filters, depth * 7 + filters[0]!);
        const ours = decodePngPixels(png, 'f.png');
        const reference = decode(png);
        expect(ours.depth).toBe(depth);
        expect(ours.channels).toBe(1);
        expect(ours.data).toBeInstanceOf(depth === 16 ? Uint16Array : Uint8Array);
        expect(Array.from(ours.data)).toEqual(Array.from(reference.data));
      }
    }
  });

  it('an unknown row filter or short pixel data is an InputError naming the file', () => {
    expect(() => decodePng(filteredGrayPng(4, 4, 8, [5], 1), 'f5.png')).toThrow(/f5\.png: .*row filter 5/);
    const short = filteredGrayPng(4, 4, 16, [0], 1);
    // the IHDR says 8 rows (its CRC redone), the pixel data holds 4
    short.writeUInt32BE(8, 20);
    short.writeUInt32BE(crc32(short.subarray(12, 29)), 29);
    expect(() => decodePng(short, 'short.png')).toThrow(/short\.png: truncated PNG pixel data/);
  });
});

describe('PNG: writing', () => {
  it('16-bit, 8-bit and RGB round-trip through the files', async () => {
    const data16 = new Uint16Array([0, 1, 65535, 4095, 300, 7]);
    await writePng16(path.join(tmp, 'a16.png'), { width: 3, height: 2, data: data16 });
    const back16 = await readPngSlice(path.join(tmp, 'a16.png'));
    expect(back16).toEqual({ width: 3, height: 2, data: data16 });
    const data8 = new Uint8Array([0, 128, 255, 1]);
    await writePngGray8(path.join(tmp, 'a8.png'), { width: 2, height: 2, data: data8 });
    expect((await readPngSlice(path.join(tmp, 'a8.png'))).data).toEqual(data8);
    const rgb = new Uint8Array([255, 255, 0, 0, 255, 0]);
    await writePngRgb(path.join(tmp, 'rgb.png'), rgb, 2, 1);
    expect(decodePngPixels(readFileSync(path.join(tmp, 'rgb.png')), 'rgb.png').data).toEqual(rgb);
  });
});

describe('PNG: bad input is an InputError naming the file', () => {
  it('missing file, not a PNG, truncated PNG', async () => {
    await expect(readPngSlice(path.join(tmp, 'nope.png'))).rejects.toThrow(/nope\.png: file not found/);
    expect(() => decodePng(new Uint8Array([1, 2, 3]), 'x.png')).toThrow(/x\.png: not a PNG/);
    const good = encode({ width: 16, height: 16, data: new Uint8Array(256).fill(9), channels: 1, depth: 8 });
    expect(() => decodePng(good.subarray(0, good.length - 20), 'cut.png')).toThrow(
      /cut\.png: .*(corrupt|truncated)/,
    );
  });

  it('random bytes and random corruptions never crash', () => {
    const good = encode({
      width: 8,
      height: 8,
      data: new Uint16Array(64).fill(1000),
      channels: 1,
      depth: 16,
    });
    const isCleanFailure = (bytes: Uint8Array) => {
      try {
        decodePng(bytes, 'fuzz.png');
        return true;
      } catch (e) {
        return isInputError(e) && e.where === 'fuzz.png';
      }
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), isCleanFailure), { numRuns: 300 });
    fc.assert(
      fc.property(
        fc.nat(good.length - 1),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(good.length),
        (at, v, cut) => {
          const bytes = good.slice(0, Math.max(cut, 8));
          if (at < bytes.length) bytes[at] = v;
          return isCleanFailure(bytes);
        },
      ),
      { numRuns: 500 },
    );
  });
});
