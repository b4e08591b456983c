/**
 * Image reading speed on the fixture copies (runs on any clone): 16-bit PNG decode/encode of a real
 * 266² UW-Madison slice, DICOM frame decode (explicit little endian, big endian, RLE, and the compressed
 * syntaxes decoded by the WebAssembly codecs, from test/fixtures/imaging/dicom-codecs) of the 64² MR_small,
 * and opening (header + one pass over the voxels) an in-memory 256×256×64 int16 NIfTI volume.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeDicomFrame } from '../../main/imaging/dicom';
import { decodeNifti } from '../../main/imaging/nifti';
import { decodePng, encodePng16 } from '../../main/imaging/png';
import { FIXTURES } from '../helpers/shared-data';
import { itemsPerSecond, type BenchRow } from './util';

/** NIfTI-1, little endian int16, RAS diagonal sform (2, 2, 3 mm), zero voxels. */
function niftiVolume(nx: number, ny: number, nz: number): Uint8Array {
  const bytes = new Uint8Array(352 + nx * ny * nz * 2);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, 348, true);
  [3, nx, ny, nz].forEach((d, n) => view.setInt16(40 + 2 * n, d, true));
  view.setInt16(70, 4, true);
  view.setInt16(72, 16, true);
  [1, 2, 2, 3].forEach((d, n) => view.setFloat32(76 + 4 * n, d, true));
  view.setFloat32(108, 352, true);
  view.setInt16(254, 1, true);
  [
    [2, 0, 0, 0],
    [0, 2, 0, 0],
    [0, 0, 3, 0],
  ].forEach((row, r) => row.forEach((v, c) => view.setFloat32(280 + 16 * r + 4 * c, v, true)));
  bytes.set([0x6e, 0x2b, 0x31, 0], 344);
  return bytes;
}

export async function bench(): Promise<BenchRow[]> {
  const png = readFileSync(path.join(FIXTURES, 'imaging/raw16_slice_0001.png'));
  const slice = decodePng(png, 'bench');
  const slice16 = { width: slice.width, height: slice.height, data: slice.data as Uint16Array };
  const dicom = (name: string) => readFileSync(path.join(FIXTURES, 'imaging/dicom', name));
  const explicit = dicom('MR_small.dcm');
  const big = dicom('MR_small_bigendian.dcm');
  const rle = dicom('MR_small_RLE.dcm');
  const nifti = niftiVolume(256, 256, 64);
  const results: BenchRow[] = [
    { name: 'png16 decode 266²', value: itemsPerSecond(() => decodePng(png, 'bench')), unit: 'slices/s' },
    { name: 'png16 encode 266²', value: itemsPerSecond(() => encodePng16(slice16)), unit: 'slices/s' },
    {
      name: 'dicom explicit LE 64² decode',
      value: itemsPerSecond(() => decodeDicomFrame(explicit, 'b')),
      unit: 'files/s',
    },
    {
      name: 'dicom big endian 64² decode',
      value: itemsPerSecond(() => decodeDicomFrame(big, 'b')),
      unit: 'files/s',
    },
    {
      name: 'dicom RLE 64² decode',
      value: itemsPerSecond(() => decodeDicomFrame(rle, 'b')),
      unit: 'files/s',
    },
  ];
  // Compressed copies of the same slice, written by dcmtk, gdcm and OpenJPH (the first call loads the codec).
  for (const [name, file] of [
    ['JPEG baseline', 'jpeg-baseline.dcm'],
    ['JPEG lossless SV1', 'jpeg-lossless-sv1.dcm'],
    ['JPEG-LS lossless', 'jpeg-ls-lossless.dcm'],
    ['JPEG 2000 lossless', 'gdcm-j2k-lossless.dcm'],
    ['HTJ2K lossless', 'htj2k-lossless.dcm'],
  ]) {
    const bytes = readFileSync(path.join(FIXTURES, 'imaging/dicom-codecs', file!));
    results.push({
      name: `dicom ${name} 64² decode`,
      value: itemsPerSecond(() => decodeDicomFrame(bytes, 'b')),
      unit: 'files/s',
    });
  }
  const t0 = performance.now();
  decodeNifti(nifti, 'bench');
  results.push({
    name: 'nifti 256×256×64 int16 open (range scan)',
    value: performance.now() - t0,
    unit: 'ms',
  });
  return results;
}
