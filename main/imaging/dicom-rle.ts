/**
 * DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header with up to 15 segment offsets, each segment one
 * byte plane compressed with PackBits. For 16-bit samples segment 0 holds the high bytes, segment 1 the
 * low bytes; for several samples per pixel the planes of sample 0 come first.
 */
import { InputError } from '../core/errors';

/**
 * Decode one PackBits segment into exactly `out.length` bytes. A header byte n in 0..127 copies the
 * next n+1 bytes, -127..-1 repeats the next byte 1-n times, -128 is a no-op (PS3.5 G.3.1).
 */
export function decodePackBits(input: Uint8Array, out: Uint8Array, where: string): void {
  let inPos = 0;
  let outPos = 0;
  while (outPos < out.length) {
    if (inPos >= input.length) {
      throw new InputError(where, `RLE segment ends after ${outPos} of ${out.length} bytes`);
    }
    const header = (input[inPos++]! << 24) >> 24; // as signed 8-bit
    if (header >= 0) {
      const count = header + 1;
      if (inPos + count > input.length)
        throw new InputError(where, 'RLE literal run past the end of its segment');
      if (outPos + count > out.length)
        throw new InputError(where, 'RLE segment decodes to more bytes than the image');
      out.set(input.subarray(inPos, inPos + count), outPos);
      inPos += count;
      outPos += count;
    } else if (header !== -128) {
      const count = 1 - header;
      if (inPos >= input.length) throw new InputError(where, 'RLE repeat run past the end of its segment');
      if (outPos + count > out.length)
        throw new InputError(where, 'RLE segment decodes to more bytes than the image');
      out.fill(input[inPos++]!, outPos, outPos + count);
      outPos += count;
    }
  }
}

/**
 * Decode one RLE frame into native little-endian bytes, samples interleaved per pixel (the layout of
 * uncompressed Explicit VR Little Endian pixel data with PlanarConfiguration 0).
 */
export function decodeDicomRle(
  frame: Uint8Array,
  pixels: number,
  samplesPerPixel: number,
  bitsAllocated: number,
  where: string,
): Uint8Array {
  if (frame.length < 64)
    throw new InputError(where, `RLE frame too short for its 64-byte header (${frame.length})`);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = view.getUint32(0, true);
  const bytesPerSample = bitsAllocated / 8;
  if (!Number.isInteger(bytesPerSample) || bytesPerSample < 1) {
    throw new InputError(where, `RLE with BitsAllocated ${bitsAllocated} is not supported`);
  }
  const expected = samplesPerPixel * bytesPerSample;
  if (segments !== expected) {
    throw new InputError(where, `RLE header lists ${segments} segments, expected ${expected}`);
  }
  // PackBits expands at most 128 bytes per 2 input bytes; a shorter frame cannot hold the image.
  if (pixels * expected > frame.length * 64) {
    throw new InputError(where, `RLE data (${frame.length} bytes) too short for a ${pixels}-pixel image`);
  }
  const offsets: number[] = [];
  for (let i = 0; i < segments; i++) offsets.push(view.getUint32(4 + i * 4, true));
  const out = new Uint8Array(pixels * expected);
  const plane = new Uint8Array(pixels);
  for (let s = 0; s < segments; s++) {
    const start = offsets[s]!;
    const end = s + 1 < segments ? offsets[s + 1]! : frame.length;
    if (start < 64 || end > frame.length || start > end) {
      throw new InputError(
        where,
        `RLE segment ${s + 1} has an impossible offset (${start}..${end} in ${frame.length})`,
      );
    }
    decodePackBits(frame.subarray(start, end), plane, where);
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample); // segment order is most significant first
    for (let p = 0, o = sample * bytesPerSample + byteInSample; p < pixels; p++, o += expected)
      out[o] = plane[p]!;
  }
  return out;
}
