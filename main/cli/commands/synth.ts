/**
 * `tractus synth phantom --out DIR [--cases N --days N --slices N --size N --seed N]` and
 * `tractus synth synthseg --labels CSV --out DIR [--samples N --seed N --size N]` and
 * `tractus synth transplant --images DIR --labels CSV --out DIR [--samples N --exclude P --per-patient N]`:
 * write synthetic training / demo data in the UW-Madison layout. Parsing and printing only.
 */
import type { Command } from 'commander';
import { InputError } from '../../core/errors';
import { openDataset } from '../../imaging/open';
import {
  loadTransplantSources,
  writeSynthSegDataset,
  writeSyntheticKaggleDataset,
  writeTransplantDataset,
  type WrittenDataset,
} from '../../synth/datasets';
import { readLabelScans, selectLabelScans, type LabelScanSelection } from '../../synth/label-scans';
import { patientList } from '../options';
import { ProgressBar } from '../progress';

function intOption(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InputError(flag, `must be a whole number from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

function progress(label: string): (done: number, total: number) => void {
  let bar: ProgressBar | undefined;
  return (done, total) => {
    bar ??= new ProgressBar({ label, total });
    bar.update(done);
  };
}

function report(written: WrittenDataset, json: boolean | undefined): void {
  process.stdout.write(
    json
      ? `${JSON.stringify(written)}\n`
      : `wrote ${written.slices} slices of ${written.scans.length} scans and train.csv to ${written.root}\n`,
  );
}

interface PhantomFlags {
  out: string;
  cases: number;
  days: number;
  slices: number;
  size: number;
  seed: number;
  json?: boolean;
}

interface SynthSegFlags {
  labels: string;
  out: string;
  samples: number;
  seed: number;
  size?: number;
  exclude?: string[];
  perPatient?: number;
  json?: boolean;
}

interface TransplantFlags {
  images: string;
  labels: string;
  out: string;
  samples: number;
  exclude?: string[];
  excludeLabels?: string[];
  perPatient?: number;
  json?: boolean;
}

function labelSelection(f: { exclude?: string[]; perPatient?: number }): LabelScanSelection | undefined {
  return f.exclude !== undefined || f.perPatient !== undefined
    ? {
        ...(f.exclude ? { exclude: f.exclude } : {}),
        ...(f.perPatient !== undefined ? { perPatient: f.perPatient } : {}),
      }
    : undefined;
}

async function selectedLabels(file: string, selection: LabelScanSelection | undefined) {
  const all = await readLabelScans(file);
  const labels = selection ? selectLabelScans(all, selection) : all;
  if (labels.length === 0) throw new InputError(file, 'no label scans left after --exclude/--per-patient');
  return labels;
}

const PER_PATIENT = [
  '--per-patient <n>',
  'use at most N label scans of each patient (the first by scan id)',
  intOption('--per-patient', 1, 1000),
] as const;

export function register(program: Command): void {
  const synth = program.command('synth').description('Write synthetic abdominal MRI with organ masks');
  synth
    .command('phantom')
    .description('Seeded abdomen phantoms (16-bit PNG + train.csv, UW-Madison layout)')
    .requiredOption('--out <dir>', 'output folder')
    .option('--cases <n>', 'patients', intOption('--cases', 1, 1000), 2)
    .option('--days <n>', 'scans (treatment days) per patient', intOption('--days', 1, 20), 1)
    .option('--slices <n>', 'slices per scan', intOption('--slices', 1, 400), 40)
    .option('--size <n>', 'slice width and height in pixels', intOption('--size', 16, 1024), 266)
    .option('--seed <n>', 'random seed: same seed, same files', intOption('--seed', 0, 2 ** 32 - 1), 1)
    .option('--json', 'print the result as JSON on stdout')
    .action(async (f: PhantomFlags) => {
      const written = await writeSyntheticKaggleDataset(f.out, {
        cases: f.cases,
        days: f.days,
        slices: f.slices,
        size: f.size,
        seed: f.seed,
        onProgress: progress('slices'),
      });
      report(written, f.json);
    });
  synth
    .command('synthseg')
    .description(
      'SynthSeg-style images built around REAL organ label maps (wide CSV such as eval_subset.csv)',
    )
    .requiredOption('--labels <csv>', 'wide mask CSV: id,large_bowel,small_bowel,stomach,…,width,height')
    .requiredOption('--out <dir>', 'output folder')
    .option(
      '--samples <n>',
      'synthetic scans (each a full rendering of one real scan)',
      intOption('--samples', 1, 100000),
      22,
    )
    .option('--seed <n>', 'random seed: same seed, same files', intOption('--seed', 0, 2 ** 32 - 1), 1)
    .option(
      '--size <n>',
      'stretch slices to N×N pixels (default: keep each scan’s size)',
      intOption('--size', 16, 1024),
    )
    .option(
      '--exclude <patients>',
      'leave out these patients, e.g. every validation and test patient: "case30,case47"',
      patientList,
    )
    .option(...PER_PATIENT)
    .option('--json', 'print the result as JSON on stdout')
    .action(async (f: SynthSegFlags) => {
      const selection = labelSelection(f);
      const labels = await selectedLabels(f.labels, selection);
      const written = await writeSynthSegDataset(labels, f.out, {
        samples: f.samples,
        seed: f.seed,
        source: f.labels,
        ...(selection ? { selection } : {}),
        ...(f.size !== undefined ? { size: f.size } : {}),
        onProgress: progress('slices'),
      });
      report(written, f.json);
    });
  synth
    .command('transplant')
    .description(
      'REAL scans deformed onto the REAL organ label maps of other patients (registration of their organs)',
    )
    .requiredOption(
      '--images <dir>',
      'real scans with ground truth (UW-Madison layout); whole scans only are used',
    )
    .requiredOption(
      '--labels <csv>',
      'wide mask CSV of other patients: id,large_bowel,small_bowel,stomach,…,width,height',
    )
    .requiredOption('--out <dir>', 'output folder')
    .option(
      '--samples <n>',
      'transplanted scans (each one label scan in full)',
      intOption('--samples', 1, 100000),
      22,
    )
    .option(
      '--exclude <patients>',
      'use neither the images nor the label maps of these patients (every validation and test patient)',
      patientList,
    )
    .option(
      '--exclude-labels <patients>',
      'also leave out the label maps (only) of these patients, e.g. training patients whose images are used',
      patientList,
    )
    .option(...PER_PATIENT)
    .option('--json', 'print the result as JSON on stdout')
    .action(async (f: TransplantFlags) => {
      const exclude = [...(f.exclude ?? []), ...(f.excludeLabels ?? [])];
      const labels = await selectedLabels(f.labels, labelSelection({ ...f, exclude }));
      const sources = await loadTransplantSources(await openDataset(f.images), {
        ...(f.exclude ? { exclude: f.exclude } : {}),
      });
      if (sources.length === 0) {
        throw new InputError(
          f.images,
          'no whole scan (20 slices or more) with ground truth left to transplant',
        );
      }
      const written = await writeTransplantDataset(sources, labels, f.out, {
        samples: f.samples,
        source: {
          images: f.images,
          labels: f.labels,
          ...(f.exclude ? { exclude: f.exclude } : {}),
          ...(f.excludeLabels ? { excludeLabels: f.excludeLabels } : {}),
          ...(f.perPatient !== undefined ? { perPatient: f.perPatient } : {}),
        },
        onProgress: progress('slices'),
      });
      if (f.json) process.stdout.write(`${JSON.stringify(written)}\n`);
      else {
        report(written, false);
        process.stdout.write(
          `organ shapes matched the label maps: Dice ${written.diceBefore.toFixed(2)} before registration, ${written.diceAfter.toFixed(2)} after\n`,
        );
      }
    });
}
