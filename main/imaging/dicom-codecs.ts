/**
 * Compressed DICOM pixel data (JPEG, JPEG Lossless, JPEG-LS, JPEG 2000, HTJ2K) → raw little-endian samples,
 * through the WebAssembly codecs the Cornerstone/OHIF viewers maintain for exactly this job (libjpeg-turbo,
 * CharLS, OpenJPEG, OpenJPH), Cornerstone's JPEG Lossless decoder, and dcmjs-codecs (WebAssembly codecs
 * made for DICOM) for 12-bit lossy JPEG, which libjpeg-turbo's 8-bit build cannot read. No decoder is
 * written here.
 *
 * The Cornerstone codecs are Emscripten modules. Each is instantiated synchronously from the `.wasm` file in
 * node_modules the first time a file needs it, so `parseDicomFile`/`decodeDicomFrame` stay synchronous and
 * nothing is fetched (dcmjs-codecs loads only asynchronously: see its section below). Error texts depend
 * only on the cause (never on the file or a pointer value), so a folder of files refused for one reason
 * can be reported as one line.
 */
import { Decoder as JpegLosslessDecoder } from '@cornerstonejs/jpeg-lossless-decoder-js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as DcmjsCodecs from 'dcmjs-codecs';
import { InputError } from '../core/errors';

type CodecId = 'jpeg8' | 'jpeg-lossless' | 'jpeg-ls' | 'j2k' | 'htj2k';

export interface TransferSyntaxInfo {
  name: string;
  /** The decoder used; undefined when Tractus cannot decode this syntax. */
  codec?: CodecId;
  lossy: boolean;
}

/** The encapsulated (compressed) syntaxes Tractus knows by name, decodable or not. */
export const COMPRESSED_SYNTAXES: Readonly<Record<string, TransferSyntaxInfo>> = {
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline', codec: 'jpeg8', lossy: true },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended', codec: 'jpeg8', lossy: true },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless', codec: 'jpeg-lossless', lossy: false },
  '1.2.840.10008.1.2.4.70': {
    name: 'JPEG Lossless (first-order prediction)',
    codec: 'jpeg-lossless',
    lossy: false,
  },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless', codec: 'jpeg-ls', lossy: false },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Near-Lossless', codec: 'jpeg-ls', lossy: true },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 Lossless', codec: 'j2k', lossy: false },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000', codec: 'j2k', lossy: true },
  '1.2.840.10008.1.2.4.201': { name: 'High-Throughput JPEG 2000 Lossless', codec: 'htj2k', lossy: false },
  '1.2.840.10008.1.2.4.202': {
    name: 'High-Throughput JPEG 2000 (RPCL) Lossless',
    codec: 'htj2k',
    lossy: false,
  },
  '1.2.840.10008.1.2.4.203': { name: 'High-Throughput JPEG 2000', codec: 'htj2k', lossy: true },
  '1.2.840.10008.1.2.4.52': { name: 'JPEG Extended (process 3 & 5, retired)', lossy: true },
  '1.2.840.10008.1.2.4.53': { name: 'JPEG Spectral Selection (retired)', lossy: true },
  '1.2.840.10008.1.2.4.55': { name: 'JPEG Progressive (retired)', lossy: true },
  '1.2.840.10008.1.2.4.100': { name: 'MPEG-2 video', lossy: true },
  '1.2.840.10008.1.2.4.102': { name: 'MPEG-4 video', lossy: true },
  '1.2.840.10008.1.2.4.110': { name: 'JPEG XL Lossless', lossy: false },
  '1.2.840.10008.1.2.4.112': { name: 'JPEG XL', lossy: true },
};

/** The one advice given with every refusal, so identical causes read identically. */
export const CONVERT_ADVICE =
  'convert it first, e.g. `dcmdjpeg in.dcm out.dcm` or `gdcmconv --raw in.dcm out.dcm`';

export function describeSyntax(uid: string): TransferSyntaxInfo | undefined {
  return COMPRESSED_SYNTAXES[uid];
}

/** What the file's header says one decoded frame must be. */
export interface FrameLayout {
  rows: number;
  columns: number;
  /** 8 or 16 (the header check refuses anything else) */
  bitsAllocated: number;
}

// ---- Emscripten codec modules (no type declarations ship with them) ----------------------------------

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

type DecoderClass = new () => WasmDecoder;

/** The part of the WebAssembly global used here (this project's TypeScript libs do not declare it). */
interface WasmInstance {
  exports: object;
}
interface WasmGlobal {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
  RuntimeError: new () => Error;
}
const Wasm = (globalThis as unknown as { WebAssembly: WasmGlobal }).WebAssembly;

interface EmscriptenArgs {
  instantiateWasm: (imports: object, done: (instance: WasmInstance, module: object) => void) => object;
  print: (text: string) => void;
  printErr: (text: string) => void;
}

const WASM_CODECS: Record<Exclude<CodecId, 'jpeg-lossless'>, { js: string; wasm: string; cls: string }> = {
  jpeg8: {
    js: '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs',
    wasm: '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm',
    cls: 'JPEGDecoder',
  },
  'jpeg-ls': {
    js: '@cornerstonejs/codec-charls/decodewasmjs',
    wasm: '@cornerstonejs/codec-charls/decodewasm',
    cls: 'JpegLSDecoder',
  },
  j2k: {
    js: '@cornerstonejs/codec-openjpeg/decodewasmjs',
    wasm: '@cornerstonejs/codec-openjpeg/decodewasm',
    cls: 'J2KDecoder',
  },
  htj2k: {
    js: '@cornerstonejs/codec-openjph/wasmjs',
    wasm: '@cornerstonejs/codec-openjph/wasm',
    cls: 'HTJ2KDecoder',
  },
};

const require_ = createRequire(import.meta.url);
const loaded = new Map<string, DecoderClass>();

/**
 * Instantiate an Emscripten module synchronously: with `instantiateWasm` answering at once, the module's
 * runtime (and the embind classes it registers on the module object) is ready when the factory returns.
 */
function wasmDecoderClass(codec: keyof typeof WASM_CODECS): DecoderClass {
  const cached = loaded.get(codec);
  if (cached) return cached;
  const spec = WASM_CODECS[codec];
  const factory = require_(spec.js) as (args: EmscriptenArgs) => Promise<unknown>;
  const binary = readFileSync(require_.resolve(spec.wasm));
  const module: Partial<EmscriptenArgs> & Record<string, unknown> = {
    instantiateWasm(imports, done) {
      const compiled = new Wasm.Module(binary);
      const instance = new Wasm.Instance(compiled, imports);
      done(instance, compiled);
      return instance.exports;
    },
    // OpenJPEG reports progress on stdout; the CLI's output must stay clean.
    print: () => {},
    printErr: () => {},
  };
  void factory(module as EmscriptenArgs).catch(() => {});
  const cls = module[spec.cls];
  if (typeof cls !== 'function') throw new Error(`${spec.js} did not initialise synchronously`);
  loaded.set(codec, cls as DecoderClass);
  return cls as DecoderClass;
}

// ---- decoding ---------------------------------------------------------------------------------------

interface Decoded {
  width: number;
  height: number;
  /** 1 or 2 bytes per sample, little-endian */
  bytesPerSample: 1 | 2;
  components: number;
  data: Uint8Array;
}

function runWasm(codec: keyof typeof WASM_CODECS, encoded: Uint8Array): Decoded {
  const decoder = new (wasmDecoderClass(codec))();
  try {
    return decodeWith(decoder, encoded);
  } catch (e) {
    // A trap or abort() leaves an Emscripten module unusable: the next file gets a fresh instance.
    // (C++ exceptions, thrown as numbers, leave it intact.)
    if (e instanceof Wasm.RuntimeError) loaded.delete(codec);
    throw e;
  } finally {
    try {
      decoder.delete();
    } catch {
      // an aborted module cannot free anything; it is dropped anyway
    }
  }
}

function decodeWith(decoder: WasmDecoder, encoded: Uint8Array): Decoded {
  decoder.getEncodedBuffer(encoded.length).set(encoded);
  decoder.decode();
  const info = decoder.getFrameInfo();
  return {
    width: info.width,
    height: info.height,
    bytesPerSample: info.bitsPerSample > 8 ? 2 : 1,
    components: info.componentCount,
    // A view into the module's memory: copied before the decoder is freed.
    data: decoder.getDecodedBuffer().slice(),
  };
}

function runJpegLossless(encoded: Uint8Array): Decoded {
  const decoder = new JpegLosslessDecoder();
  // The decoder reads an ArrayBuffer from offset 0; `encoded` may be a view (or a Node Buffer, whose slice shares memory).
  const copy = new Uint8Array(encoded);
  const out = decoder.decode(copy.buffer, 0, copy.length);
  return {
    width: decoder.xDim,
    height: decoder.yDim,
    bytesPerSample: out instanceof Uint16Array ? 2 : 1,
    components: decoder.numComp,
    data: new Uint8Array(out.buffer, out.byteOffset, out.byteLength),
  };
}

// ---- 12-bit lossy JPEG (dcmjs-codecs) -----------------------------------------------------------------

/**
 * dcmjs-codecs instantiates its module only asynchronously, while decoding here is synchronous. It is loaded
 * the first time a 12-bit stream turns up (≈ 0.2 s, 4 MB) rather than with every DICOM file: the synchronous
 * read throws this, and `withDicomCodecs` loads the codec and reads again.
 */
export class CodecNotLoadedError extends Error {
  constructor() {
    super('the 12-bit JPEG codec is not loaded yet: await loadJpeg12Codec() (or use withDicomCodecs) first');
  }
}

let jpeg12: typeof DcmjsCodecs | undefined;
let jpeg12Loading: Promise<void> | undefined;

export function loadJpeg12Codec(): Promise<void> {
  jpeg12Loading ??= (async () => {
    const codecs = require_('dcmjs-codecs') as typeof DcmjsCodecs;
    codecs.log.setLevel('silent'); // its messages reach the caller as exceptions; stdout stays the CLI's
    await codecs.NativeCodecs.initializeAsync({
      webAssemblyModulePathOrUrl: require_.resolve('dcmjs-codecs/build/dcmjs-native-codecs.wasm'),
    });
    jpeg12 = codecs;
  })().catch((e: unknown) => {
    jpeg12Loading = undefined; // a failed load may be retried
    throw e;
  });
  return jpeg12Loading;
}

/** Run a synchronous DICOM read; when it needed a codec that loads asynchronously, load it and read again. */
export async function withDicomCodecs<T>(read: () => T): Promise<T> {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof CodecNotLoadedError)) throw e;
    await loadJpeg12Codec();
    return read();
  }
}

function runJpeg12(encoded: Uint8Array, layout: FrameLayout): Decoded {
  if (!jpeg12) throw new CodecNotLoadedError();
  const { NativeCodecs, Context } = jpeg12;
  const context = new Context({
    width: layout.columns,
    height: layout.rows,
    bitsAllocated: 16,
    bitsStored: 12,
    samplesPerPixel: 1,
    pixelRepresentation: 0, // the stored bits come back as they are; the caller applies the sign
    planarConfiguration: 0,
    photometricInterpretation: 'MONOCHROME2',
    encodedBuffer: encoded,
  });
  let decoded: ReturnType<typeof NativeCodecs.decodeJpeg>;
  try {
    decoded = NativeCodecs.decodeJpeg(context, {});
  } catch (e) {
    // A trap leaves the module unusable: the next read loads a fresh one (withDicomCodecs). A rejected
    // stream (a JS Error thrown through the module) leaves it working.
    if (e instanceof Wasm.RuntimeError) {
      NativeCodecs.release();
      [jpeg12, jpeg12Loading] = [undefined, undefined];
    }
    throw e;
  }
  const data = decoded.getDecodedBuffer();
  if (!data) throw new Error('the 12-bit JPEG decoder returned no samples');
  return {
    width: decoded.getWidth() ?? layout.columns,
    height: decoded.getHeight() ?? layout.rows,
    bytesPerSample: 2,
    components: decoded.getSamplesPerPixel() ?? 1,
    data: new Uint8Array(data),
  };
}

/** The sample precision in a JPEG stream's start-of-frame marker (8, 12 or 16), if one is found. */
export function jpegPrecision(encoded: Uint8Array): number | undefined {
  let i = 2; // after SOI
  while (i + 4 < encoded.length) {
    if (encoded[i] !== 0xff) return undefined;
    const marker = encoded[i + 1]!;
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return encoded[i + 4];
    i += 2 + ((encoded[i + 2]! << 8) | encoded[i + 3]!);
  }
  return undefined;
}

/** Samples of `bytes` bytes each → `want` bytes each (little-endian). */
function resample(decoded: Decoded, want: 1 | 2, name: string, where: string): Uint8Array {
  if (decoded.bytesPerSample === want) return decoded.data;
  const n = decoded.width * decoded.height;
  if (want === 2) {
    const out = new Uint8Array(n * 2);
    for (let i = 0; i < n; i++) out[i * 2] = decoded.data[i]!;
    return out;
  }
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const hi = decoded.data[i * 2 + 1]!;
    if (hi !== 0) {
      throw new InputError(where, `the ${name} data holds 16-bit samples but the header says 8 bits`);
    }
    out[i] = decoded.data[i * 2]!;
  }
  return out;
}

/**
 * Decode one compressed frame to rows × columns samples of `bitsAllocated` bits, little-endian, as stored
 * (the sign and BitsStored are applied by the caller, exactly as for uncompressed data).
 */
export function decodeCompressedFrame(
  encoded: Uint8Array,
  transferSyntax: string,
  layout: FrameLayout,
  where: string,
): Uint8Array {
  const info = COMPRESSED_SYNTAXES[transferSyntax];
  const name = info?.name ?? 'an unsupported transfer syntax';
  if (!info?.codec) {
    throw new InputError(
      where,
      `compressed with ${name} (${transferSyntax}), which Tractus cannot decode — ${CONVERT_ADVICE}`,
    );
  }
  // libjpeg-turbo is built 8-bit only: 12-bit streams (JPEG Extended, process 4) go to dcmjs-codecs.
  const precision = info.codec === 'jpeg8' ? jpegPrecision(encoded) : undefined;
  if (precision !== undefined && precision !== 8 && precision !== 12) {
    throw new InputError(
      where,
      `compressed with ${name} at ${precision} bits per sample (${transferSyntax}), which lossy JPEG ` +
        `does not allow — ${CONVERT_ADVICE}`,
    );
  }
  let decoded: Decoded;
  try {
    decoded =
      info.codec === 'jpeg-lossless'
        ? runJpegLossless(encoded)
        : precision === 12
          ? runJpeg12(encoded, layout)
          : runWasm(info.codec, encoded);
  } catch (e) {
    if (e instanceof InputError || e instanceof CodecNotLoadedError) throw e;
    // Emscripten throws C++ exceptions as bare pointers: the value says nothing, the cause is the data.
    throw new InputError(where, `corrupt ${name} data (the decoder rejected it)`, { cause: e });
  }
  if (decoded.width !== layout.columns || decoded.height !== layout.rows) {
    throw new InputError(
      where,
      `the ${name} frame is ${decoded.width}×${decoded.height} but the header says ` +
        `${layout.columns}×${layout.rows}`,
    );
  }
  if (decoded.components !== 1) {
    throw new InputError(
      where,
      `the ${name} frame has ${decoded.components} colour components; MRI is grayscale`,
    );
  }
  const bytes = resample(decoded, layout.bitsAllocated === 16 ? 2 : 1, name, where);
  const expected = layout.rows * layout.columns * (layout.bitsAllocated / 8);
  if (bytes.length < expected) {
    throw new InputError(where, `corrupt ${name} data (the decoder returned too few samples)`);
  }
  return bytes.length === expected ? bytes : bytes.subarray(0, expected);
}
