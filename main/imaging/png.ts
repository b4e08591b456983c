/**
 * PNG slices in and out (fast-png). Medical slices are grayscale: 16-bit stays 16-bit, 8-bit stays 8-bit,
 * and colour or palette images are reduced to luminance so every PNG opens as one intensity channel.
 */
import { promises as fs } from 'node:fs';
import { crc32, inflateSync } from 'node:zlib';
import { decode, encode, type DecodedPng } from 'fast-png';
import { InputError, isInputError } from '../core/errors';
import type { SliceImage } from '../core/types';
import { readFileOrExplain, readSmallFileOrExplain, writeFileAtomic } from '../io/files';
import { pixelKernels } from '../kernels/pixels';

/** Decoded PNG pixels before any grayscale reduction: palette expanded to RGB(A), low bit depths unpacked. */
export interface PngPixels {
  width: number;
  height: number;
  /** 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA */
  channels: 1 | 2 | 3 | 4;
  /** 8 or 16 after unpacking (1/2/4-bit gray is scaled to 8-bit, palettes give 8-bit colour) */
  depth: 8 | 16;
  /** Interleaved samples, row-major. */
  data: Uint8Array | Uint16Array;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function hasPngSignature(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Larger than any scanner slice; refusing it early stops a corrupt header from asking for gigabytes. */
const MAX_SIDE = 16384;

/** Read IHDR's width/height (bytes 16..23, big endian) before fast-png allocates the image. */
function checkHeaderSize(bytes: Uint8Array, where: string): void {
  if (bytes.length < 24) throw new InputError(where, 'truncated PNG (no complete IHDR header)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  if (width === 0 || height === 0 || width > MAX_SIDE || height > MAX_SIDE) {
    throw new InputError(where, `implausible PNG size ${width}×${height} (corrupt header?)`);
  }
}

/**
 * Verify every chunk's CRC with zlib's native crc32 (microseconds per slice; fast-png's own `checkCrc` is a
 * JS loop) — a corrupt byte must be an error, not a wrong pixel. Stops at IEND; a chunk past the end is truncation.
 */
function checkChunkCrcs(bytes: Uint8Array, where: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const end = at + 12 + length;
    if (end > bytes.length)
      throw new InputError(where, `truncated PNG (a chunk runs ${end - bytes.length} bytes past the end)`);
    const type = bytes.subarray(at + 4, at + 8);
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length)) {
      throw new InputError(where, `corrupt PNG (CRC mismatch in the ${String.fromCharCode(...type)} chunk)`);
    }
    if (String.fromCharCode(...type) === 'IEND') return;
    at = end;
  }
  throw new InputError(where, 'truncated PNG (no IEND chunk)');
}

/** Unpack 1/2/4-bit gray rows (each row padded to a whole byte) and stretch to 0..255. */
function unpackLowDepthGray(packed: Uint8Array, width: number, height: number, depth: 1 | 2 | 4): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const maxValue = (1 << depth) - 1;
  const scale = 255 / maxValue;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)] ?? 0;
      const value = (byte >> (8 - depth - (bit & 7))) & maxValue;
      out[y * width + x] = Math.round(value * scale);
    }
  }
  return out;
}

/** Palette indices (1/2/4/8-bit, rows padded) → interleaved RGB or RGBA from the palette. */
function expandPalette(png: DecodedPng, where: string): { data: Uint8Array; channels: 3 | 4 } {
  const palette = png.palette ?? [];
  if (palette.length === 0) throw new InputError(where, 'palette PNG without a palette (PLTE chunk)');
  const channels = (palette[0]?.length === 4 ? 4 : 3) as 3 | 4;
  const { width, height } = png;
  const depth = png.depth as 1 | 2 | 4 | 8;
  const packed = png.data as Uint8Array;
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const index = ((packed[y * rowBytes + (bit >> 3)] ?? 0) >> (8 - depth - (bit & 7))) & mask;
      const colour = palette[index];
      if (!colour)
        throw new InputError(where, `palette index ${index} outside the ${palette.length}-colour palette`);
      for (let c = 0; c < channels; c++) out[(y * width + x) * channels + c] = colour[c] ?? 255;
    }
  }
  return { data: out, channels };
}

/**
 * Non-interlaced 8- or 16-bit grayscale — what scanners' slice PNGs are — decoded with zlib's native inflate
 * and one pass over the rows; undefined for any other kind of PNG, which fast-png decodes. The same pixels as
 * fast-png (the tests compare the two on every row filter), at about a third of its cost: its inflate is
 * JavaScript, and decoding was the largest per-slice cost of `tractus segment` after the network.
 * Expects chunks whose CRCs were checked.
 */
function decodeGrayNative(bytes: Uint8Array, where: string): PngPixels | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const [depth, colourType, compression, filterMethod, interlace] = bytes.subarray(24, 29);
  const isIhdr = view.getUint32(8) === 13 && String.fromCharCode(...bytes.subarray(12, 16)) === 'IHDR';
  if (!isIhdr || colourType !== 0 || (depth !== 8 && depth !== 16)) return undefined;
  if (compression !== 0 || filterMethod !== 0 || interlace !== 0) return undefined;
  const idat: Uint8Array[] = [];
  for (let at = 8; at + 12 <= bytes.length;) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (type === 'IDAT') idat.push(bytes.subarray(at + 8, at + 8 + length));
    if (type === 'IEND') break;
    at += 12 + length;
  }
  if (idat.length === 0) throw new InputError(where, 'corrupt PNG (no IDAT chunk)');
  const bpp = depth / 8;
  const rowBytes = width * bpp;
  let raw: Buffer;
  try {
    // One output chunk of the expected size (zlib's default 16 KiB chunks are joined by another copy), at
    // most 4 MiB: a corrupt header must not make a few bytes of data allocate gigabytes up front.
    raw = inflateSync(idat.length === 1 ? idat[0]! : Buffer.concat(idat), {
      chunkSize: Math.min(1 << 22, Math.max(64, height * (rowBytes + 1))),
    });
  } catch (e) {
    throw new InputError(where, `corrupt or truncated PNG (${(e as Error).message})`, { cause: e });
  }
  if (raw.length < height * (rowBytes + 1)) {
    throw new InputError(
      where,
      `truncated PNG pixel data (expected ${height * (rowBytes + 1)} bytes, found ${raw.length})`,
    );
  }
  // Unfiltered, packed and (16-bit) byte-swapped in one pass, in WebAssembly (main/kernels/pixels.c).
  const rows = pixelKernels().pngRows(raw, height, rowBytes, bpp, depth === 16 && LITTLE_ENDIAN);
  if ('filter' in rows) throw new InputError(where, `corrupt PNG (unknown row filter ${rows.filter})`);
  const { pixels } = rows;
  if (depth === 8) return { width, height, channels: 1, depth: 8, data: pixels };
  const data = new Uint16Array(pixels.buffer, 0, width * height);
  return { width, height, channels: 1, depth: 16, data };
}

/** Decode PNG bytes into interleaved samples. `where` names the file in errors. */
export function decodePngPixels(bytes: Uint8Array, where: string): PngPixels {
  if (!hasPngSignature(bytes)) throw new InputError(where, 'not a PNG file (the PNG signature is missing)');
  checkHeaderSize(bytes, where);
  let png: DecodedPng;
  try {
    checkChunkCrcs(bytes, where);
    const gray = decodeGrayNative(bytes, where);
    if (gray) return gray;
    png = decode(bytes);
  } catch (e) {
    if (isInputError(e)) throw e; // already names the file and the problem (e.g. a chunk's CRC)
    throw new InputError(where, `corrupt or truncated PNG (${(e as Error).message ?? String(e)})`, {
      cause: e,
    });
  }
  const { width, height } = png;
  if (!(width > 0 && height > 0)) throw new InputError(where, `PNG has no pixels (${width}×${height})`);
  if (png.palette) {
    const { data, channels } = expandPalette(png, where);
    return { width, height, channels, depth: 8, data };
  }
  const channels = png.channels as PngPixels['channels'];
  if (![1, 2, 3, 4].includes(channels))
    throw new InputError(where, `unsupported PNG channel count ${channels}`);
  let data: Uint8Array | Uint16Array;
  let depth: 8 | 16;
  if (png.depth === 16) {
    data = png.data as Uint16Array;
    depth = 16;
  } else if (png.depth === 8) {
    data = png.data instanceof Uint8Array ? png.data : new Uint8Array(png.data);
    depth = 8;
  } else if (channels === 1) {
    data = unpackLowDepthGray(png.data as Uint8Array, width, height, png.depth as 1 | 2 | 4);
    depth = 8;
  } else {
    throw new InputError(where, `unsupported PNG bit depth ${png.depth} with ${channels} channels`);
  }
  const expected = width * height * channels;
  if (data.length < expected) {
    throw new InputError(
      where,
      `truncated PNG pixel data (expected ${expected} samples, found ${data.length})`,
    );
  }
  return {
    width,
    height,
    channels,
    depth,
    data: data.length === expected ? data : data.subarray(0, expected),
  };
}

/** ITU-R BT.601 luma, the weighting image viewers use when showing a colour image as gray. */
function luminance(r: number, g: number, b: number): number {
  return Math.round(0.299 * r + 0.587 * g + 0.114 * b);
}

/** Reduce decoded PNG pixels to one intensity channel; alpha is ignored (slices are opaque). */
export function pngPixelsToGray(pixels: PngPixels): SliceImage {
  const { width, height, channels, data } = pixels;
  const n = width * height;
  if (channels === 1) return { width, height, data };
  const out = pixels.depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  if (channels === 2) {
    for (let i = 0; i < n; i++) out[i] = data[i * 2] ?? 0;
  } else {
    for (let i = 0; i < n; i++) {
      const p = i * channels;
      out[i] = luminance(data[p] ?? 0, data[p + 1] ?? 0, data[p + 2] ?? 0);
    }
  }
  return { width, height, data: out };
}

/** Decode PNG bytes as one grayscale slice (16-bit → Uint16Array, otherwise Uint8Array). */
export function decodePng(bytes: Uint8Array, where: string): SliceImage {
  return pngPixelsToGray(decodePngPixels(bytes, where));
}

export async function readPngPixels(file: string): Promise<PngPixels> {
  return decodePngPixels(await readFileOrExplain(file), file);
}

export async function readPngSlice(file: string): Promise<SliceImage> {
  return decodePng(readSmallFileOrExplain(file), file);
}

function checkSize(width: number, height: number, length: number, channels: number): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`PNG size must be positive integers, got ${width}×${height}`);
  }
  if (length !== width * height * channels) {
    throw new RangeError(`PNG data has ${length} samples, expected ${width}×${height}×${channels}`);
  }
}

/** Encode a 16-bit grayscale PNG; 8-bit input is widened (values kept, not rescaled). */
export function encodePng16(image: {
  width: number;
  height: number;
  data: Uint16Array | Uint8Array;
}): Uint8Array {
  checkSize(image.width, image.height, image.data.length, 1);
  const data = image.data instanceof Uint16Array ? image.data : Uint16Array.from(image.data);
  return encode({ width: image.width, height: image.height, data, depth: 16, channels: 1 });
}

export function encodePngGray8(image: { width: number; height: number; data: Uint8Array }): Uint8Array {
  checkSize(image.width, image.height, image.data.length, 1);
  return encode({ width: image.width, height: image.height, data: image.data, depth: 8, channels: 1 });
}

export function encodePngRgb(rgb: Uint8Array, width: number, height: number): Uint8Array {
  checkSize(width, height, rgb.length, 3);
  return encode({ width, height, data: rgb, depth: 8, channels: 3 });
}

/** Atomic writes (temp file + rename) so a crash never leaves half a PNG. */
export async function writePng16(
  file: string,
  image: { width: number; height: number; data: Uint16Array | Uint8Array },
): Promise<void> {
  await writeFileAtomic(file, encodePng16(image));
}

export async function writePngGray8(
  file: string,
  image: { width: number; height: number; data: Uint8Array },
): Promise<void> {
  await writeFileAtomic(file, encodePngGray8(image));
}

export async function writePngRgb(
  file: string,
  rgb: Uint8Array,
  width: number,
  height: number,
): Promise<void> {
  await writeFileAtomic(file, encodePngRgb(rgb, width, height));
}

export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  /** PNG colour type: 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA */
  colourType: number;
}

/** Size and bit depth from the IHDR chunk alone, so listing a folder does not decode every slice. */
export async function readPngHeader(file: string): Promise<PngHeader> {
  const handle = await fs.open(file, 'r').catch(async () => {
    await readFileOrExplain(file); // throws the InputError that names the file and the reason
    throw new InputError(file, 'cannot open');
  });
  try {
    const bytes = new Uint8Array(29);
    const { bytesRead } = await handle.read(bytes, 0, 29, 0);
    return parsePngHeader(bytes.subarray(0, bytesRead), file);
  } finally {
    await handle.close();
  }
}

export function parsePngHeader(bytes: Uint8Array, where: string): PngHeader {
  if (!hasPngSignature(bytes)) throw new InputError(where, 'not a PNG file (the PNG signature is missing)');
  checkHeaderSize(bytes, where);
  if (bytes.length < 26 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') {
    throw new InputError(where, 'corrupt PNG (first chunk is not IHDR)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    width: view.getUint32(16),
    height: view.getUint32(20),
    bitDepth: bytes[24]!,
    colourType: bytes[25]!,
  };
}
