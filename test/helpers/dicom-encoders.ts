/**
 * Compressed DICOM written by independent tools (Debian's dcmtk, libgdcm-tools and openjph-tools, plus
 * pydicom to wrap an HTJ2K codestream), for test/unit/imaging-dicom-codecs.test.ts. The committed files in
 * test/fixtures/imaging/dicom-codecs/ were made by this module too:
 *
 *   npx tsx test/helpers/dicom-encoders.ts <out dir>     (from MR_small.dcm in test/fixtures/imaging/dicom)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pythonWith } from './python';
import { FIXTURES, REPO_ROOT } from './shared-data';

const WRAP_SCRIPT = path.join(REPO_ROOT, 'test/reference/dicom_codecs.py');

export interface EncodeCase {
  id: string;
  /** transfer syntax the tool writes */
  syntax: string;
  /** Debian commands it needs */
  tools: string[];
  /** needs pydicom (HTJ2K: to make the PGM and wrap the codestream) */
  python?: boolean;
  /** decodes bit-identical to the source */
  lossless: boolean;
  /** lossy: the largest difference allowed to the tool's own decoding of the same file */
  maxToReference?: number;
  /** lossy: the largest difference allowed to the source (JPEG-LS near-lossless: its NEAR parameter) */
  maxToSource?: number;
  /**
   * lossy: the lowest peak signal-to-noise ratio (dB) allowed to the source — a sanity bound below every
   * measured value, far above what a wrong decoding gives (a shifted or mis-signed image scores < 15 dB)
   */
  minPsnr?: number;
  /** Tractus must refuse it with this reason (no maintained decoder) */
  refused?: RegExp;
  /** only for unsigned sources (the tool refuses signed data) */
  unsignedOnly?: boolean;
  /** writes `out`; returns the tool's own decoding (uncompressed .dcm, or .pgm) for lossy cases */
  encode(src: string, out: string, work: string): string | undefined;
}

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function withSuffix(file: string, suffix: string): string {
  return file.replace(/\.dcm$/, suffix);
}

/**
 * gdcm 3.0 will not derive a lossy image from a source that already lists its own source images
 * ("Sorry could not derive using input info"); a copy without SourceImageSequence is accepted.
 */
function derivable(src: string, work: string): string {
  const copy = path.join(work, `${path.basename(src, '.dcm')}.derivable.dcm`);
  if (!existsSync(copy)) {
    copyFileSync(src, copy);
    chmodSync(copy, 0o644); // ../shared is read-only, and so would the copy be
    run('dcmodify', ['-nb', '-imt', '-e', '(0008,2112)', copy]);
  }
  return copy;
}

/** HTJ2K: OpenJPH's ojph_compress on a PGM of the source, wrapped by pydicom (one Python start). */
function htj2k(src: string, out: string, work: string, lossy: boolean): string | undefined {
  const python = pythonWith(['numpy', 'pydicom'])!;
  run(python, [WRAP_SCRIPT, 'htj2k', src, out, work, lossy ? 'lossy' : 'lossless']);
  return lossy ? withSuffix(out, '.ref.pgm') : undefined;
}

export const CASES: EncodeCase[] = [
  {
    id: 'jpeg-baseline',
    syntax: '1.2.840.10008.1.2.4.50',
    tools: ['dcmcjpeg', 'dcmdjpeg'],
    lossless: false,
    maxToReference: 1,
    encode(src, out) {
      run('dcmcjpeg', ['+eb', src, out]);
      run('dcmdjpeg', [out, withSuffix(out, '.ref.dcm')]);
      return withSuffix(out, '.ref.dcm');
    },
  },
  {
    id: 'jpeg-extended-8bit',
    syntax: '1.2.840.10008.1.2.4.51',
    tools: ['dcmcjpeg', 'dcmdjpeg'],
    lossless: false,
    maxToReference: 1,
    encode(src, out) {
      run('dcmcjpeg', ['+ee', '+be', src, out]);
      run('dcmdjpeg', [out, withSuffix(out, '.ref.dcm')]);
      return withSuffix(out, '.ref.dcm');
    },
  },
  {
    id: 'jpeg-extended-12bit',
    syntax: '1.2.840.10008.1.2.4.51',
    tools: ['dcmcjpeg', 'dcmdjpeg'],
    lossless: false,
    maxToReference: 1, // measured 0: dcmjs-codecs returns dcmdjpeg's samples exactly
    minPsnr: 20, // measured 24.5 dB on MR_small (64², dcmcjpeg's default quality)
    unsignedOnly: true,
    encode(src, out) {
      run('dcmcjpeg', ['+ee', src, out]);
      run('dcmdjpeg', [out, withSuffix(out, '.ref.dcm')]);
      return withSuffix(out, '.ref.dcm');
    },
  },
  {
    // A retired syntax (DICOM 2006) that archives should no longer hold: refused by name.
    id: 'jpeg-progressive',
    syntax: '1.2.840.10008.1.2.4.55',
    tools: ['dcmcjpeg'],
    lossless: false,
    refused: /^compressed with JPEG Progressive \(retired\) \(1\.2\.840\.10008\.1\.2\.4\.55\).*dcmdjpeg/,
    unsignedOnly: true,
    encode(src, out) {
      run('dcmcjpeg', ['+ep', src, out]);
      return undefined;
    },
  },
  {
    id: 'jpeg-lossless-sv1',
    syntax: '1.2.840.10008.1.2.4.70',
    tools: ['dcmcjpeg'],
    lossless: true,
    encode: (src, out) => void run('dcmcjpeg', ['+e1', src, out]),
  },
  {
    id: 'jpeg-lossless-process14',
    syntax: '1.2.840.10008.1.2.4.57',
    tools: ['dcmcjpeg'],
    lossless: true,
    encode: (src, out) => void run('dcmcjpeg', ['+el', src, out]),
  },
  {
    id: 'jpeg-ls-lossless',
    syntax: '1.2.840.10008.1.2.4.80',
    tools: ['dcmcjpls'],
    lossless: true,
    encode: (src, out) => void run('dcmcjpls', ['+el', src, out]),
  },
  {
    id: 'jpeg-ls-near-lossless',
    syntax: '1.2.840.10008.1.2.4.81',
    tools: ['dcmcjpls', 'dcmdjpls'],
    lossless: false,
    maxToReference: 0,
    maxToSource: 2, // dcmcjpls +en: NEAR = 2, the bound JPEG-LS guarantees on every sample
    unsignedOnly: true,
    encode(src, out) {
      run('dcmcjpls', ['+en', src, out]);
      run('dcmdjpls', [out, withSuffix(out, '.ref.dcm')]);
      return withSuffix(out, '.ref.dcm');
    },
  },
  {
    id: 'gdcm-j2k-lossless',
    syntax: '1.2.840.10008.1.2.4.90',
    tools: ['gdcmconv'],
    lossless: true,
    encode: (src, out) => void run('gdcmconv', ['--j2k', src, out]),
  },
  {
    id: 'gdcm-j2k-lossy',
    syntax: '1.2.840.10008.1.2.4.91',
    tools: ['gdcmconv', 'dcmodify'],
    lossless: false,
    maxToReference: 1,
    minPsnr: 30, // measured 31.3 dB (8-bit source), 40.2 (MR_small 12-bit), 51.1 (0051) at rate 8
    encode(src, out, work) {
      run('gdcmconv', ['--j2k', '--lossy', '-r', '8', derivable(src, work), out]);
      run('gdcmconv', ['--raw', out, withSuffix(out, '.ref.dcm')]);
      return withSuffix(out, '.ref.dcm');
    },
  },
  {
    id: 'gdcm-jpeg-ls',
    syntax: '1.2.840.10008.1.2.4.80',
    tools: ['gdcmconv'],
    lossless: true,
    encode: (src, out) => void run('gdcmconv', ['--jpegls', src, out]),
  },
  {
    id: 'gdcm-jpeg',
    syntax: '1.2.840.10008.1.2.4.70',
    tools: ['gdcmconv'],
    lossless: true,
    encode: (src, out) => void run('gdcmconv', ['--jpeg', src, out]),
  },
  {
    id: 'rle',
    syntax: '1.2.840.10008.1.2.5',
    tools: ['dcmcrle'],
    lossless: true,
    encode: (src, out) => void run('dcmcrle', [src, out]),
  },
  {
    id: 'htj2k-lossless',
    syntax: '1.2.840.10008.1.2.4.201',
    tools: ['ojph_compress'],
    python: true,
    lossless: true,
    unsignedOnly: true,
    encode: (src, out, work) => htj2k(src, out, work, false),
  },
  {
    id: 'htj2k-lossy',
    syntax: '1.2.840.10008.1.2.4.203',
    tools: ['ojph_compress', 'ojph_expand'],
    python: true,
    lossless: false,
    maxToReference: 1,
    minPsnr: 45, // measured 56.5 dB on MR_small, 56.3 dB on 0051 at qstep 0.002
    unsignedOnly: true,
    encode: (src, out, work) => htj2k(src, out, work, true),
  },
];

const present = new Map<string, boolean>();
export function hasTool(tool: string): boolean {
  if (!present.has(tool)) {
    present.set(tool, spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0);
  }
  return present.get(tool)!;
}

/** Why a case cannot run here (missing tools), or undefined. */
export function missingFor(c: EncodeCase): string | undefined {
  const missing = c.tools.filter((t) => !hasTool(t));
  if (c.python && !pythonWith(['numpy', 'pydicom'])) missing.push('python3 with numpy + pydicom');
  return missing.length > 0 ? missing.join(', ') : undefined;
}

/**
 * MR_small.dcm (16-bit signed, values 127…2145) relabelled by dcmodify as 12-bit unsigned: the same pixel
 * bytes, but a source the 12-bit and unsigned-only encoders accept.
 */
export function make12BitCopy(src: string, out: string): void {
  copyFileSync(src, out);
  chmodSync(out, 0o644);
  run('dcmodify', ['-nb', '-m', '(0028,0101)=12', '-m', '(0028,0102)=11', '-m', '(0028,0103)=0', out]);
}

/** CLI: regenerate the committed fixtures. */
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = path.resolve(process.argv[2] ?? path.join(FIXTURES, 'imaging/dicom-codecs'));
  const work = path.join(outDir, '.work');
  mkdirSync(work, { recursive: true });
  const mr16 = path.join(FIXTURES, 'imaging/dicom/MR_small.dcm');
  const mr12 = path.join(outDir, 'MR_small_12bit.dcm');
  make12BitCopy(mr16, mr12);
  for (const c of CASES) {
    const src = c.unsignedOnly || !c.lossless ? mr12 : mr16;
    c.encode(src, path.join(outDir, `${c.id}.dcm`), work);
    console.log(`${c.id}.dcm from ${path.basename(src)}`);
  }
  rmSync(work, { recursive: true, force: true });
}
