/**
 * DICOM folders → scans (dicom-parser for the data elements; pixel decoding here).
 *
 * Files are grouped into scans by SeriesInstanceUID and ordered along the slice normal
 * (ImagePositionPatient · (row × column direction of ImageOrientationPatient)); InstanceNumber is the
 * fallback. Modality rescale (slope/intercept) is applied. Supported transfer syntaxes: implicit and
 * explicit VR little endian, explicit VR big endian, deflated explicit little endian, RLE Lossless (our own
 * decoder) and, through maintained WebAssembly codecs (dicom-codecs.ts), JPEG Baseline/Extended (8-bit),
 * JPEG Lossless, JPEG-LS, JPEG 2000 and HTJ2K; other compressed syntaxes are refused with their name.
 * Files without pixel data (RT structure sets, DICOMDIR, reports) and refused files are listed in
 * `Dataset.warnings` and do not stop the rest of the folder from loading.
 */
import dicomParser, { type DataSet, type Element } from 'dicom-parser';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { InputError, isInputError } from '../core/errors';
import { planeOfNormal } from '../core/acquisition';
import { sliceId } from '../core/ids';
import { orientationLetters } from '../core/orientation';
import type { Dataset, DatasetWarning, IntensityType, Scan, SliceImage } from '../core/types';
import { formatWarnings } from '../core/warnings';
import { readFileOrExplain } from '../io/files';
import { assembleDataset, naturalCompare } from './assemble';
import {
  CodecNotLoadedError,
  CONVERT_ADVICE,
  decodeCompressedFrame,
  describeSyntax,
  withDicomCodecs,
} from './dicom-codecs';
import { decodeDicomRle } from './dicom-rle';
import { combineRanges, convertValues, intensityForRange, measureValues, type ValueRange } from './intensity';

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const DEFLATED_LE = '1.2.840.10008.1.2.1.99';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const RLE_LOSSLESS = '1.2.840.10008.1.2.5';
const SUPPORTED = new Set([IMPLICIT_LE, EXPLICIT_LE, DEFLATED_LE, EXPLICIT_BE, RLE_LOSSLESS]);

/** 1 GiB of pixels in one file is beyond any MR series; larger sizes mean a corrupt header. */
const MAX_PIXEL_BYTES = 1 << 30;

export type Vec3 = [number, number, number];

/** What Tractus keeps from one image file's header. */
export interface DicomImageHeader {
  file: string;
  transferSyntax: string;
  patientId: string;
  studyInstanceUid?: string;
  /** YYYYMMDD */
  studyDate?: string;
  seriesInstanceUid?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  modality?: string;
  /** BodyPartExamined (0018,0015) */
  bodyPart?: string;
  /** ImageType (0008,0008) values */
  imageType?: string[];
  instanceNumber?: number;
  imagePosition?: Vec3;
  /** row direction cosines then column direction cosines */
  imageOrientation?: [Vec3, Vec3];
  /** [between rows, between columns] in mm */
  pixelSpacing?: [number, number];
  sliceThickness?: number;
  spacingBetweenSlices?: number;
  rows: number;
  columns: number;
  frames: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: 0 | 1;
  rescaleSlope: number;
  rescaleIntercept: number;
}

/** A parse outcome: an image, or a file that is DICOM but has no pixels (with the reason). */
export type DicomFileContent =
  | { kind: 'image'; header: DicomImageHeader; range: ValueRange }
  | { kind: 'no-image'; file: string; reason: string };

function describeThrown(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e && typeof e === 'object') {
    const inner = (e as { exception?: unknown }).exception;
    if (inner !== undefined) return describeThrown(inner);
    if (e instanceof Error) return e.message;
  }
  return String(e);
}

const VR_NAMES = new Set(
  'AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV'.split(
    ' ',
  ),
);

/**
 * Files without the 128-byte preamble and "DICM" (old ACR-NEMA style) start directly with a data element;
 * recognise one of group 0x0008 (or 0x0002..0x0028) and tell explicit from implicit VR by the VR letters.
 */
function sniffHeaderless(bytes: Uint8Array): string | undefined {
  if (bytes.length < 8) return undefined;
  const group = bytes[0]! | (bytes[1]! << 8);
  if (group < 0x0002 || group > 0x0028 || group % 2 !== 0) return undefined;
  const vr = String.fromCharCode(bytes[4]!, bytes[5]!);
  return VR_NAMES.has(vr) ? EXPLICIT_LE : IMPLICIT_LE;
}

function hasDicmMagic(bytes: Uint8Array): boolean {
  return (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  );
}

/** Inflate the deflated data set after the meta header (dicom-parser's own path needs a CommonJS require). */
function inflater(bytes: Uint8Array, position: number): Uint8Array {
  const inflated = inflateRawSync(bytes.subarray(position));
  const out = new Uint8Array(position + inflated.length);
  out.set(bytes.subarray(0, position));
  out.set(inflated, position);
  return out;
}

/** Parse a DICOM file's data elements (Part 10, headerless or deflated); also used by the RT/SEG readers. */
export function parseDataSet(bytes: Uint8Array, where: string): DataSet {
  let options: dicomParser.ParseDicomOptions = { inflater };
  if (!hasDicmMagic(bytes)) {
    const syntax = sniffHeaderless(bytes);
    if (!syntax) {
      throw new InputError(
        where,
        'not a DICOM file (no "DICM" marker at byte 128 and no data element at the start)',
      );
    }
    options = { TransferSyntaxUID: syntax };
  }
  try {
    return dicomParser.parseDicom(bytes, options);
  } catch (e) {
    const reason = describeThrown(e);
    const truncated = /overrun|beyond|end of|past/i.test(reason);
    throw new InputError(
      where,
      `${truncated ? 'truncated or corrupt' : 'unreadable'} DICOM file (${reason})`,
      {
        cause: e,
      },
    );
  }
}

function text(ds: DataSet, tag: string): string | undefined {
  const value = ds.string(tag);
  return value === undefined || value === '' ? undefined : value;
}

function numbers(ds: DataSet, tag: string): number[] | undefined {
  const value = text(ds, tag);
  if (value === undefined) return undefined;
  const parts = value.split('\\').map((v) => Number(v.trim()));
  return parts.every(Number.isFinite) ? parts : undefined;
}

function number(ds: DataSet, tag: string): number | undefined {
  return numbers(ds, tag)?.[0];
}

function readHeader(ds: DataSet, file: string): DicomImageHeader | { reason: string } {
  const pixelData = ds.elements.x7fe00010;
  const modality = text(ds, 'x00080060');
  if (!pixelData) {
    return { reason: `no pixel data${modality ? ` (a ${modality} object)` : ''}, not an image` };
  }
  const transferSyntax = text(ds, 'x00020010') ?? IMPLICIT_LE;
  if (!SUPPORTED.has(transferSyntax) && !describeSyntax(transferSyntax)?.codec) {
    const name = describeSyntax(transferSyntax)?.name ?? 'an unsupported transfer syntax';
    throw new InputError(
      file,
      `compressed with ${name} (${transferSyntax}), which Tractus cannot decode — ${CONVERT_ADVICE}`,
    );
  }
  const rows = ds.uint16('x00280010') ?? 0;
  const columns = ds.uint16('x00280011') ?? 0;
  if (!(rows > 0 && columns > 0))
    throw new InputError(file, `image has no size (Rows ${rows}, Columns ${columns})`);
  const samples = ds.uint16('x00280002') ?? 1;
  const photometric = text(ds, 'x00280004') ?? 'MONOCHROME2';
  if (samples !== 1 || !photometric.startsWith('MONOCHROME')) {
    throw new InputError(
      file,
      `colour image (${photometric}, ${samples} samples per pixel); MRI slices are grayscale`,
    );
  }
  const bitsAllocated = ds.uint16('x00280100') ?? 0;
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    throw new InputError(file, `BitsAllocated ${bitsAllocated} is not supported (8 or 16)`);
  }
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated) {
    throw new InputError(file, `BitsStored ${bitsStored} does not fit BitsAllocated ${bitsAllocated}`);
  }
  const frames = Math.max(1, Math.trunc(number(ds, 'x00280008') ?? 1));
  if (rows * columns * frames * (bitsAllocated / 8) > MAX_PIXEL_BYTES) {
    throw new InputError(
      file,
      `implausibly large image (${columns}×${rows}, ${frames} frames); corrupt header?`,
    );
  }
  const position = numbers(ds, 'x00200032');
  const orientation = numbers(ds, 'x00200037');
  const spacing = numbers(ds, 'x00280030');
  const slope = number(ds, 'x00281053') ?? 1;
  return {
    file,
    transferSyntax,
    patientId: text(ds, 'x00100020') ?? 'unknown',
    studyInstanceUid: text(ds, 'x0020000d'),
    studyDate: text(ds, 'x00080020'),
    seriesInstanceUid: text(ds, 'x0020000e'),
    seriesNumber: number(ds, 'x00200011'),
    seriesDescription: text(ds, 'x0008103e'),
    modality,
    bodyPart: text(ds, 'x00180015'),
    imageType: text(ds, 'x00080008')?.split('\\'),
    instanceNumber: number(ds, 'x00200013'),
    imagePosition: position?.length === 3 ? (position as Vec3) : undefined,
    imageOrientation:
      orientation?.length === 6
        ? [orientation.slice(0, 3) as Vec3, orientation.slice(3, 6) as Vec3]
        : undefined,
    pixelSpacing:
      spacing?.length === 2 && spacing.every((v) => v > 0) ? (spacing as [number, number]) : undefined,
    sliceThickness: number(ds, 'x00180050'),
    spacingBetweenSlices: number(ds, 'x00180088'),
    rows,
    columns,
    frames,
    bitsAllocated,
    bitsStored,
    pixelRepresentation: ds.uint16('x00280103') === 1 ? 1 : 0,
    rescaleSlope: slope === 0 ? 1 : slope, // a zero slope is a writer's mistake; 1 keeps the values usable
    rescaleIntercept: number(ds, 'x00281052') ?? 0,
  };
}

/** The compressed bytes of one frame of encapsulated pixel data. */
function encapsulatedFrame(ds: DataSet, header: DicomImageHeader, frame: number, name: string): Uint8Array {
  const pixelData = ds.elements.x7fe00010 as Element;
  const fragments = pixelData.fragments ?? [];
  try {
    if (!pixelData.encapsulatedPixelData || fragments.length === 0) throw new Error('no fragments');
    if (header.frames === 1) {
      return dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixelData, 0, fragments.length);
    }
    if (fragments.length === header.frames) {
      return dicomParser.readEncapsulatedPixelDataFromFragments(ds, pixelData, frame, 1);
    }
    return dicomParser.readEncapsulatedImageFrame(ds, pixelData, frame);
  } catch (e) {
    throw new InputError(
      header.file,
      `cannot find the ${name} data of frame ${frame + 1} (${describeThrown(e)})`,
      {
        cause: e,
      },
    );
  }
}

/** The raw bytes of one frame, little-endian, exactly rows × columns × bytes per sample long. */
function frameBytes(ds: DataSet, header: DicomImageHeader, frame: number): Uint8Array {
  const where = header.file;
  const pixelData = ds.elements.x7fe00010 as Element;
  const pixels = header.rows * header.columns;
  const frameLength = (pixels * header.bitsAllocated) / 8;
  if (header.transferSyntax === RLE_LOSSLESS) {
    return decodeDicomRle(
      encapsulatedFrame(ds, header, frame, 'RLE'),
      pixels,
      1,
      header.bitsAllocated,
      where,
    );
  }
  const compressed = describeSyntax(header.transferSyntax);
  if (compressed) {
    const encoded = encapsulatedFrame(ds, header, frame, compressed.name);
    return decodeCompressedFrame(encoded, header.transferSyntax, header, where);
  }
  if (pixelData.encapsulatedPixelData)
    throw new InputError(where, 'encapsulated pixel data in an uncompressed syntax');
  const start = pixelData.dataOffset + frame * frameLength;
  const available = Math.min(pixelData.length, ds.byteArray.length - pixelData.dataOffset);
  const needed = header.frames * frameLength;
  if (available < needed) {
    throw new InputError(
      where,
      `truncated pixel data (expected ${needed} bytes, found ${Math.max(available, 0)})`,
    );
  }
  const bytes = new Uint8Array(ds.byteArray.buffer, ds.byteArray.byteOffset + start, frameLength).slice();
  if (header.transferSyntax === EXPLICIT_BE && header.bitsAllocated === 16) {
    for (let i = 0; i + 1 < bytes.length; i += 2) {
      const hi = bytes[i]!;
      bytes[i] = bytes[i + 1]!;
      bytes[i + 1] = hi;
    }
  }
  return bytes;
}

/** Stored values with the sign taken from BitsStored (two's complement within the stored bits). */
function storedValues(bytes: Uint8Array, header: DicomImageHeader): Int32Array {
  const n = header.rows * header.columns;
  const out = new Int32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const signed = header.pixelRepresentation === 1;
  const shift = 32 - header.bitsStored;
  for (let i = 0; i < n; i++) {
    const raw = header.bitsAllocated === 8 ? bytes[i]! : view.getUint16(i * 2, true);
    out[i] = signed ? (raw << shift) >> shift : raw;
  }
  return out;
}

function rangeOf(values: Float64Array | Int32Array, header: DicomImageHeader): ValueRange {
  const { min, max, integral } = measureValues(values);
  const bytes = header.bitsAllocated === 8 && header.pixelRepresentation === 0 && !rescaled(header);
  return { min, max, integral, bytes, signed: header.pixelRepresentation === 1 };
}

function rescaled(header: DicomImageHeader): boolean {
  return header.rescaleSlope !== 1 || header.rescaleIntercept !== 0;
}

/** Stored values → modality values (slope/intercept), as Int32 when nothing changes them. */
function modalityValues(stored: Int32Array, header: DicomImageHeader): Float64Array | Int32Array {
  if (!rescaled(header)) return stored;
  const out = new Float64Array(stored.length);
  const { rescaleSlope: slope, rescaleIntercept: intercept } = header;
  for (let i = 0; i < stored.length; i++) out[i] = stored[i]! * slope + intercept;
  return out;
}

function frameValues(ds: DataSet, header: DicomImageHeader, frame: number): Float64Array | Int32Array {
  return modalityValues(storedValues(frameBytes(ds, header, frame), header), header);
}

/**
 * Parse one file's bytes: its header and the value range of all its frames (decoding them once, so a
 * broken file is found when the folder opens, not when a clinician scrolls to it).
 */
/**
 * dicom-parser's element accessors throw bare strings (or RangeErrors from typed-array views) when an element
 * was cut short, long after parseDicom itself succeeded: any such throw while reading a file means it is corrupt.
 */
function readingDicom<T>(where: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (isInputError(e) || e instanceof CodecNotLoadedError) throw e;
    throw new InputError(where, `truncated or corrupt DICOM file (${describeThrown(e)})`, { cause: e });
  }
}

export function parseDicomFile(bytes: Uint8Array, where: string): DicomFileContent {
  return readingDicom(where, () => {
    const ds = parseDataSet(bytes, where);
    const header = readHeader(ds, where);
    if ('reason' in header) return { kind: 'no-image', file: where, reason: header.reason };
    const ranges: ValueRange[] = [];
    for (let f = 0; f < header.frames; f++) ranges.push(rangeOf(frameValues(ds, header, f), header));
    return { kind: 'image', header, range: combineRanges(ranges) };
  });
}

/** Decode one frame of a DICOM file, rescaled, as `type` (default: the narrowest type that holds it). */
export function decodeDicomFrame(
  bytes: Uint8Array,
  where: string,
  frame = 0,
  type?: IntensityType,
): SliceImage {
  const ds = readingDicom(where, () => parseDataSet(bytes, where));
  const header = readingDicom(where, () => readHeader(ds, where));
  if ('reason' in header) throw new InputError(where, header.reason);
  if (frame < 0 || frame >= header.frames) throw new RangeError(`${where} has no frame ${frame + 1}`);
  const values = readingDicom(where, () => frameValues(ds, header, frame));
  const intensity = type ?? intensityForRange(rangeOf(values, header));
  return { width: header.columns, height: header.rows, data: convertValues(values, intensity) };
}

const NOT_DICOM_EXT = /\.(txt|md|json|csv|xml|html?|pdf|png|jpe?g|gif|bmp|tiff?|nii|gz|zip|py|js|ts)$/i;

/** A file worth parsing: `.dcm`-like names, names without extension (scanner exports), or the DICM marker. */
export async function looksLikeDicomFile(file: string): Promise<boolean> {
  const name = path.basename(file);
  if (name.startsWith('.')) return false;
  if (/\.(dcm|dicom|ima)$/i.test(name)) return true;
  if (NOT_DICOM_EXT.test(name)) return false;
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const head = new Uint8Array(132);
    const { bytesRead } = await handle.read(head, 0, 132, 0);
    const bytes = head.subarray(0, bytesRead);
    return hasDicmMagic(bytes) || (!path.extname(name) && sniffHeaderless(bytes) !== undefined);
  } catch {
    return false;
  } finally {
    await handle?.close();
  }
}

/** Every file under `dir` (recursively) that may be DICOM, in natural order. */
export async function listDicomFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(dir, code === 'ENOENT' ? 'folder not found' : `cannot list folder (${code})`, {
      cause: e,
    });
  }
  const files = entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath ?? e.path, e.name))
    .sort(naturalCompare);
  const keep: string[] = [];
  for (const file of files) if (await looksLikeDicomFile(file)) keep.push(file);
  return keep;
}

function dot(a: Vec3, b: Vec3): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

function cross(a: Vec3, b: Vec3): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

/** Position along the slice normal, undefined when position or orientation is missing. */
export function positionAlongNormal(header: DicomImageHeader): number | undefined {
  if (!header.imagePosition || !header.imageOrientation) return undefined;
  return dot(header.imagePosition, cross(header.imageOrientation[0], header.imageOrientation[1]));
}

interface ImageFile {
  header: DicomImageHeader;
  range: ValueRange;
}

interface SliceSource {
  file: string;
  frame: number;
  position?: number;
}

/** Order a series: along the normal when every file has a position, else by InstanceNumber, then name. */
function orderSeries(files: ImageFile[]): SliceSource[] {
  const positions = files.map((f) => positionAlongNormal(f.header));
  const byPosition = positions.every((p) => p !== undefined);
  const order = files
    .map((f, i) => ({ f, position: positions[i] }))
    .sort((a, b) => {
      if (byPosition) return a.position! - b.position! || naturalCompare(a.f.header.file, b.f.header.file);
      const ia = a.f.header.instanceNumber ?? Infinity;
      const ib = b.f.header.instanceNumber ?? Infinity;
      return ia - ib || naturalCompare(a.f.header.file, b.f.header.file);
    });
  // Frames of a multi-frame file follow each other in stored order.
  return order.flatMap(({ f, position }) =>
    Array.from({ length: f.header.frames }, (_, frame) => ({
      file: f.header.file,
      frame,
      position: f.header.frames === 1 ? position : undefined,
    })),
  );
}

function median(values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Distance between neighbouring slice centres from the positions, else the SpacingBetweenSlices tag. */
function sliceSpacingOf(slices: SliceSource[], header: DicomImageHeader): number | null {
  const gaps: number[] = [];
  for (let i = 1; i < slices.length; i++) {
    const a = slices[i - 1]!.position;
    const b = slices[i]!.position;
    if (a !== undefined && b !== undefined) gaps.push(Math.abs(b - a));
  }
  const gap = median(gaps);
  if (gap !== undefined && gap > 0) return Math.round(gap * 1e4) / 1e4;
  return header.spacingBetweenSlices ?? null;
}

function safeId(text: string): string {
  return text.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'unknown';
}

/** Readable, unique scan ids: `<patient>_<date>_series<N>`, with the UID's tail when that is ambiguous. */
function scanIds(series: ImageFile[][]): string[] {
  const base = series.map(([first]) => {
    const h = first!.header;
    const n = h.seriesNumber !== undefined ? `series${h.seriesNumber}` : 'series';
    return `${safeId(h.patientId)}_${h.studyDate ?? 'nodate'}_${n}`;
  });
  return base.map((id, i) => {
    const duplicated = base.indexOf(id) !== base.lastIndexOf(id);
    if (!duplicated) return id;
    const uid = series[i]![0]!.header.seriesInstanceUid ?? series[i]![0]!.header.file;
    return `${id}_${safeId(uid).slice(-8)}`;
  });
}

function seriesScan(id: string, files: ImageFile[]): Scan {
  const first = files[0]!.header;
  const slices = orderSeries(files);
  const intensity = intensityForRange(combineRanges(files.map((f) => f.range)));
  const day = first.studyDate ?? 'unknown';
  return {
    id,
    patientId: safeId(first.patientId),
    studyId: first.studyInstanceUid ?? `${safeId(first.patientId)}_${day}`,
    day,
    description: first.seriesDescription,
    width: first.columns,
    height: first.rows,
    pixelSpacing: first.pixelSpacing ?? null,
    sliceThickness: first.sliceThickness ?? null,
    sliceSpacing: sliceSpacingOf(slices, first),
    intensity,
    source: 'dicom',
    // shown as stored: ImageOrientationPatient's row cosine runs along the columns, its column cosine down
    ...(first.imageOrientation
      ? { orientation: orientationLetters(first.imageOrientation[0], first.imageOrientation[1]) }
      : {}),
    acquisition: {
      ...(first.modality ? { modality: first.modality } : {}),
      ...(first.bodyPart ? { bodyPart: first.bodyPart } : {}),
      ...(first.imageType ? { imageType: first.imageType } : {}),
      ...(first.imageOrientation
        ? { plane: planeOfNormal(cross(first.imageOrientation[0], first.imageOrientation[1])) }
        : {}),
    },
    slices: slices.map((s, i) => ({
      id: sliceId(id, i + 1),
      number: i + 1,
      width: first.columns,
      height: first.rows,
      file: s.file,
    })),
    async readSlice(index: number): Promise<SliceImage> {
      const slice = slices[index];
      if (!slice) throw new RangeError(`scan ${id} has no slice ${index}`);
      const bytes = await readFileOrExplain(slice.file);
      return withDicomCodecs(() => decodeDicomFrame(bytes, slice.file, slice.frame, intensity));
    },
  };
}

/** Split a series whose files disagree on size into the largest consistent part plus warnings. */
function consistentPart(files: ImageFile[], warnings: DatasetWarning[]): ImageFile[] {
  const key = (f: ImageFile) => `${f.header.columns}x${f.header.rows}`;
  const counts = new Map<string, number>();
  for (const f of files) counts.set(key(f), (counts.get(key(f)) ?? 0) + 1);
  const main = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  for (const f of files) {
    if (key(f) !== main) {
      warnings.push({
        where: f.header.file,
        problem: `skipped: ${key(f)} while the rest of its series is ${main}`,
      });
    }
  }
  return files.filter((f) => key(f) === main);
}

/** Read every DICOM file in `files`; images come back, everything else becomes a warning. */
async function readImageFiles(files: string[], warnings: DatasetWarning[]): Promise<ImageFile[]> {
  const images: ImageFile[] = [];
  for (const file of files) {
    try {
      const bytes = await readFileOrExplain(file);
      const content = await withDicomCodecs(() => parseDicomFile(bytes, file));
      if (content.kind === 'image') images.push(content);
      else warnings.push({ where: file, problem: `skipped: ${content.reason}` });
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      warnings.push({ where: e.where, problem: `skipped: ${e.problem}` });
    }
  }
  return images;
}

/** Open DICOM files (a folder's or a given list) as one dataset, one scan per series. */
export async function openDicomFiles(root: string, files: string[]): Promise<Dataset> {
  const warnings: DatasetWarning[] = [];
  const images = await readImageFiles(files, warnings);
  if (images.length === 0) {
    // One line per distinct reason ("20 files: compressed with …; e.g. a.dcm"), never one per file.
    const lines = formatWarnings(
      warnings.map((w) => ({
        where: path.relative(root, w.where) || w.where,
        problem: w.problem.replace(/^skipped: /, ''),
      })),
    );
    const detail = lines.length === 1 ? ` — ${lines[0]}` : lines.map((line) => `\n  ${line}`).join('');
    throw new InputError(root, `no readable DICOM images${detail}`);
  }
  const bySeries = new Map<string, ImageFile[]>();
  for (const image of images) {
    const key = image.header.seriesInstanceUid ?? `file:${image.header.file}`;
    bySeries.set(key, [...(bySeries.get(key) ?? []), image]);
  }
  const series = [...bySeries.values()].map((files) => consistentPart(files, warnings));
  const ids = scanIds(series);
  const scans = series.map((files, i) => seriesScan(ids[i]!, files));
  series.forEach((files, i) => {
    const positions = files.map((f) => positionAlongNormal(f.header)).filter((p) => p !== undefined);
    const distinct = new Set(positions.map((p) => p.toFixed(3))).size;
    if (distinct < positions.length) {
      warnings.push({
        where: ids[i]!,
        problem: `${positions.length - distinct} of ${positions.length} images repeat another's slice position (duplicate files, or several echoes/phases in one series?)`,
      });
    }
  });
  const dataset = assembleDataset(root, scans);
  for (const patient of dataset.patients) {
    for (const study of patient.studies) {
      const day = study.day;
      if (/^\d{8}$/.test(day)) study.date = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`;
    }
  }
  if (warnings.length > 0) dataset.warnings = warnings;
  return dataset;
}

export async function openDicomFolder(dir: string): Promise<Dataset> {
  const root = path.resolve(dir);
  const files = await listDicomFiles(root);
  if (files.length === 0)
    throw new InputError(root, 'no DICOM files in this folder (none named .dcm or marked "DICM")');
  return openDicomFiles(root, files);
}

/** One file on its own; unlike a folder, a file that cannot be shown is an error. */
export async function openDicomFile(file: string): Promise<Dataset> {
  const bytes = await readFileOrExplain(file);
  const content = await withDicomCodecs(() => parseDicomFile(bytes, file));
  if (content.kind === 'no-image') throw new InputError(file, content.reason);
  return openDicomFiles(path.resolve(file), [file]);
}
