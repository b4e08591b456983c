/**
 * Bad input on the command line: one line on stderr and exit code 2, never a stack trace or a help dump;
 * outputs that cannot be written are named; temporary files stay beside their target. Run in-process.
 */
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../main/cli/program';
import { backendChoiceLine } from '../../main/model/backend/select';
import { FIXTURES, REPO_ROOT } from '../helpers/shared-data';

const tmp = mkdtempSync(path.join(tmpdir(), 'tractus-cli-errors-'));
const home = process.env.TRACTUS_HOME;
const exitCode = process.exitCode;
beforeAll(() => {
  process.env.TRACTUS_HOME = path.join(tmp, 'home'); // `models …` must not touch ~/.tractus
});
afterAll(() => {
  if (home === undefined) delete process.env.TRACTUS_HOME;
  else process.env.TRACTUS_HOME = home;
  process.exitCode = exitCode;
});

/** Run `tractus …args` in-process: exit code and the stderr lines; stdout is discarded. */
async function cli(...args: string[]): Promise<{ code: number; err: string[] }> {
  const err: string[] = [];
  const write = process.stdout.write;
  const writeErr = process.stderr.write;
  // commands and services write progress and logs to the real streams: capture both
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => {
    err.push(String(c));
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await runCli(['node', 'tractus', ...args], (text) => void err.push(text));
    return {
      code,
      err: err
        .join('')
        .split('\n')
        .filter((l) => l !== '' && !/^\S+ \d+\/\d+/.test(l)),
    };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
    process.exitCode = undefined;
  }
}

const errorLines = (err: string[]) => err.filter((l) => l.startsWith('tractus:'));

describe('tractus: bad input is one line and exit code 2', () => {
  it('segment --out <an existing file>: names the file, writes nothing', async () => {
    const file = path.join(tmp, 'passwd');
    writeFileSync(file, 'root:x:0:0\n');
    const input = path.join(FIXTURES, 'imaging/site-sample/images');
    const { code, err } = await cli('segment', input, '--out', file, '--backend', 'cpu');
    expect(code).toBe(2);
    expect(errorLines(err)).toEqual([`tractus: ${file}: is a file; give a folder for the outputs`]);
    expect(err.join('\n')).not.toMatch(/internal error|\n\s+at /);
  });

  it('convert --out <a folder>: names it, and no temporary file is left beside it or in /', async () => {
    const parent = path.join(tmp, 'convert');
    const folder = path.join(parent, 'out');
    mkdirSync(folder, { recursive: true });
    const before = readdirSync('/');
    const { code, err } = await cli(
      'convert',
      path.join(REPO_ROOT, 'data/demo'),
      '--to',
      'coco',
      '--out',
      folder,
    );
    expect(code).toBe(2);
    expect(errorLines(err)).toEqual([`tractus: ${folder}: is a folder; give a file name to write`]);
    expect(readdirSync(parent)).toEqual(['out']);
    expect(readdirSync(folder)).toEqual([]);
    expect(readdirSync('/').filter((n) => n.endsWith('.tmp'))).toEqual(
      before.filter((n) => n.endsWith('.tmp')),
    );
  });

  it('a missing required option: one line naming it, not the whole help, exit 2', async () => {
    const { code, err } = await cli('segment', path.join(REPO_ROOT, 'data/demo'));
    expect(code).toBe(2);
    expect(err).toEqual([
      "tractus: required option '--out <dir>' not specified (see tractus segment --help)",
    ]);
  });

  it('a value refused by a commander option parser is exit 2 as well (was 1)', async () => {
    const { code, err } = await cli('train', '--data', tmp, '--out', path.join(tmp, 't'), '--epochs', 'abc');
    expect(code).toBe(2);
    expect(err).toEqual([
      "tractus: option '--epochs <n>' argument 'abc' is invalid. expected a whole number ≥ 1 (see tractus train --help)",
    ]);
  });

  it('a command that groups others, given alone: one line naming them, not its help (fuzz found it)', async () => {
    expect(await cli('models')).toEqual({
      code: 2,
      err: [
        'tractus: models: needs a command: list, activate, export-onnx, ensemble, rollback (see tractus models --help)',
      ],
    });
    expect((await cli('synth')).err).toEqual([
      'tractus: synth: needs a command: phantom, synthseg, transplant (see tractus synth --help)',
    ]);
  });

  it('--help and --version still exit 0', async () => {
    expect((await cli('--version')).code).toBe(0);
    expect((await cli('info', '--help')).code).toBe(0);
  });

  it('fuzz: any argument list gives exit 0 or 2 with one line, never an internal error', async () => {
    const emptyDir = path.join(tmp, 'empty');
    mkdirSync(emptyDir, { recursive: true });
    const textFile = path.join(tmp, 'notes.txt');
    writeFileSync(textFile, 'not an image\n');
    const missing = path.join(tmp, 'missing', 'x.json');
    const word = fc.constantFrom(
      ...['--out', '--to', 'coco', 'kaggle', '--gt', '--pred', '--images', '--model', '--backend'],
      ...['wasm', 'cpu', 'gpu', '--workers', '--batch', '--epochs', '--lr', '--json', '--force', '--data'],
      ...['--init', '--val', '--csv', '--polygons', '--masks', '0', '-1', '1.5', 'NaN', 'abc', '', '-x'],
      ...['list', 'activate', 'rollback', '--help', emptyDir, textFile, missing, tmp],
    );
    const command = fc.constantFrom('info', 'segment', 'evaluate', 'convert', 'train', 'crossval', 'models');
    await fc.assert(
      fc.asyncProperty(
        command,
        fc.array(fc.oneof(word, fc.string({ maxLength: 6 })), { maxLength: 7 }),
        async (c, rest) => {
          const { code, err } = await cli(c, ...rest);
          const text = err.join('\n');
          if (/internal error/.test(text)) return false;
          if (code === 2) return errorLines(err).length === 1;
          return code === 0;
        },
      ),
      { numRuns: 60 },
    );
  }, 240_000);
});

describe('backend choice: said once, in words', () => {
  it('no raw module error, the GPU absence unmentioned; details are kept for doctor', () => {
    const fallbacks = [
      { backend: 'tensorflow-gpu', reason: 'no NVIDIA GPU/driver found (nvidia-smi not available)' },
      {
        backend: 'tensorflow',
        reason:
          "package not installed (Cannot find package '@tensorflow/tfjs-node' imported from /x/select.ts)",
      },
    ];
    expect(backendChoiceLine({ name: 'wasm', gpu: null, fallbacks })).toBe(
      'native TensorFlow not installed; using WebAssembly (details: tractus doctor)',
    );
    expect(backendChoiceLine({ name: 'wasm', gpu: null, fallbacks: [] })).toBe('using WebAssembly');
    expect(
      backendChoiceLine({
        name: 'cpu',
        gpu: null,
        fallbacks: [...fallbacks, { backend: 'wasm', reason: 'wasm binary missing' }],
      }),
    ).toBe(
      'native TensorFlow not installed, WebAssembly failed to load; using plain JavaScript (slow) (details: tractus doctor)',
    );
  });
});

describe('tractus train: an --out that cannot be a folder', () => {
  it('is one line and exit 2 before any training', async () => {
    const file = path.join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const data = path.join(FIXTURES, 'imaging/site-sample/annotations.coco.json');
    const { code, err } = await cli(
      'train',
      '--data',
      data,
      '--out',
      file,
      '--epochs',
      '1',
      '--backend',
      'cpu',
    );
    expect(code).toBe(2);
    expect(errorLines(err)).toEqual([`tractus: ${file}: is a file; give a folder for the outputs`]);
  });
});
