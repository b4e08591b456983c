/**
 * The app's export panel offers the clinical formats: `export:start` with rtstruct / dicom-seg / nifti / nnunet
 * writes the reviewed masks through services/export (the files `tractus export` writes), and an RTSTRUCT
 * written so reads back, with the MR series written beside it, to the saved mask. `tractus export <workspace>`
 * (exportFromPath) finds the same reviewed masks from the workspace folder alone. The clinic's ROI names are
 * a setting, checked in main by the rule `--roi-names` uses, kept in the settings file, used by the export.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allScans, type Dataset, type Scan } from '../../main/core/types';
import type { Engine } from '../../main/ipc/engine';
import { createHandlers } from '../../main/ipc/handlers';
import { SettingsStore } from '../../main/ipc/settings';
import { TG263_NAMES, parseRoiNames, resolveRoiNames, roiNamesProblem } from '../../main/export/organ-names';
import { readDicomSeg, readRtStruct } from '../../main/imaging/dicom-contours';
import { openDataset } from '../../main/imaging/open';
import { encodePngGray8 } from '../../main/imaging/png';
import { encodeCocoRle } from '../../main/masks/coco-rle';
import { exportFromPath } from '../../main/services/export';
import { encodeMask } from '../../preload/wire';

const W = 12;
const H = 10;

function pngScan(): Scan {
  return {
    id: 'case7_day1',
    patientId: 'case7',
    studyId: 'case7_day1',
    day: 'day1',
    width: W,
    height: H,
    pixelSpacing: [1.5, 1.5],
    sliceThickness: 3,
    intensity: 'uint16',
    source: 'png',
    slices: [1, 2].map((n) => ({ id: `case7_day1_slice_000${n}`, number: n, width: W, height: H })),
    async readSlice(i) {
      return { width: W, height: H, data: Uint16Array.from({ length: W * H }, (_, k) => k + i * 7) };
    },
  };
}

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'tractus-ipc-export-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('export:start with the clinical formats', () => {
  it('writes RTSTRUCT, DICOM-SEG, NIfTI and nnU-Net files of the reviewed masks', async () => {
    const scan = pngScan();
    const dataset: Dataset = {
      root: path.join(tmp, 'data'),
      patients: [{ id: 'case7', studies: [{ id: scan.id, patientId: 'case7', day: 'day1', scans: [scan] }] }],
      masks: new Map(),
    };
    // Export calls nothing of the engine but opening the dataset: the rest of it is left out.
    const engine = {
      openDataset: async () => dataset,
      backend: async () => ({ name: 'fake' }),
    } as unknown as Engine;
    const h = createHandlers({
      engine,
      settings: new SettingsStore(path.join(tmp, 'settings.json')),
      emit: () => {},
      transport: 'http',
      version: 'test',
      demoDir: '/data/demo',
      workspaceBase: tmp,
    });
    await h['dataset:open']({ path: dataset.root });
    const data = new Uint8Array(W * H);
    for (const p of [13, 14, 15, 25, 26, 27, 37, 38, 39]) data[p] = 1;
    await h['masks:save']({
      scanId: scan.id,
      sliceId: scan.slices[1]!.id,
      masks: { stomach: encodeMask({ width: W, height: H, data }) },
    });
    const out = path.join(tmp, 'exports');
    const files: Record<string, string[]> = {};
    for (const format of ['rtstruct', 'dicom-seg', 'nifti', 'nnunet'] as const) {
      const { jobId } = await h['export:start']({ format, outDir: out });
      const job = await h.jobs.settled(jobId);
      expect(job.status, job.error).toBe('done');
      files[format] = (job.result as { files: string[] }).files.map((f) => path.relative(out, f));
    }
    expect(files).toEqual({
      rtstruct: ['rtstruct/case7_day1.mr', 'rtstruct/case7_day1.rtstruct.dcm'],
      'dicom-seg': ['dicom-seg/case7_day1.mr', 'dicom-seg/case7_day1.seg.dcm'],
      nifti: ['nifti/case7_day1.seg.nii.gz'],
      nnunet: [
        'nnunet/imagesTr/case7_day1_0000.nii.gz',
        'nnunet/labelsTr/case7_day1.nii.gz',
        'nnunet/dataset.json',
      ],
    });
    for (const list of Object.values(files))
      for (const f of list) expect(existsSync(path.join(out, f))).toBe(true);
    const back = await openDataset(path.join(out, 'rtstruct'));
    const [slice1, slice2] = allScans(back)[0]!.slices;
    expect(back.masks.get(slice1!.id)?.stomach).toBeUndefined();
    expect(back.masks.get(slice2!.id)?.stomach?.data).toEqual(data);
  });
});

describe('the clinic’s own ROI names (setting roiNames)', () => {
  const handlerContext = (settingsFile: string) => ({
    engine: { openDataset } as unknown as Engine, // export needs nothing else of the engine
    settings: new SettingsStore(settingsFile),
    emit: () => {},
    transport: 'http' as const,
    version: 'test',
    demoDir: '/data/demo',
    workspaceBase: tmp,
  });
  const handlers = (settingsFile: string) => createHandlers(handlerContext(settingsFile));

  it('one rule for the setting and --roi-names: TG-263 by default, renames checked', () => {
    expect(resolveRoiNames({}, 'x')).toEqual(TG263_NAMES);
    expect(resolveRoiNames({ large_bowel: ' Colon ' }, 'x')).toEqual({
      ...TG263_NAMES,
      large_bowel: 'Colon',
    });
    expect(roiNamesProblem({ stomach: 'Bowel_Small' })).toBe(
      'small_bowel and stomach are both named "Bowel_Small"',
    );
    expect(roiNamesProblem({ stomach: 'A\\B' })).toMatch(/at most 64 characters, without backslash/);
    expect(roiNamesProblem({ stomach: 'x'.repeat(65) })).toMatch(/at most 64 characters/);
    expect(roiNamesProblem({ stomach: '  ' })).toBe('the ROI name of stomach is empty');
    expect(roiNamesProblem({ liver: 'Liver' })).toMatch(/"liver" is not one of large_bowel/);
    expect(() => parseRoiNames('large_bowel=Stomach')).toThrow(
      /--roi-names: large_bowel and stomach are both named "Stomach"/,
    );
  });

  it('settings:set refuses bad names, keeps good ones across restarts, and export:start uses them', async () => {
    const settingsFile = path.join(tmp, 'settings.json');
    const h = handlers(settingsFile);
    await expect(h['settings:set']({ roiNames: { stomach: 'Bowel_Large' } })).rejects.toThrow(
      /settings:set: invalid arguments: roiNames large_bowel and stomach are both named "Bowel_Large"/,
    );
    await expect(h['settings:set']({ roiNames: { liver: 'Liver' } })).rejects.toThrow(/invalid arguments/);
    expect((await h['settings:get']({})).roiNames).toEqual({});
    const clinic = { large_bowel: 'Colon', stomach: 'Stomach_Clinic' };
    expect((await h['settings:set']({ roiNames: clinic })).roiNames).toEqual(clinic);
    // persisted: a new store (the app started again) reads them from the file
    expect((await new SettingsStore(settingsFile).get()).roiNames).toEqual(clinic);

    const root = path.join(tmp, 'pngs');
    await pngFolder(root);
    const summary = await h['dataset:open']({ path: root });
    const scan = summary.patients[0]!.days[0]!.scans[0]!;
    const mask = new Uint8Array(W * H);
    for (const p of [50, 51, 62, 63]) mask[p] = 1;
    await h['masks:save']({
      scanId: scan.id,
      sliceId: scan.slices[1]!.id,
      masks: {
        stomach: encodeMask({ width: W, height: H, data: mask }),
        small_bowel: encodeMask({ width: W, height: H, data: mask.map((v) => 1 - v) }),
      },
    });
    const out = path.join(tmp, 'named');
    const written: string[] = [];
    for (const format of ['rtstruct', 'dicom-seg'] as const) {
      const job = await h.jobs.settled((await h['export:start']({ format, outDir: out })).jobId);
      expect(job.status, job.error).toBe('done');
      written.push(...(job.result as { files: string[] }).files);
    }
    const rtFile = written.find((f) => f.endsWith('.rtstruct.dcm'))!;
    const segFile = written.find((f) => f.endsWith('.seg.dcm'))!;
    const rt = readRtStruct(await readFile(rtFile), rtFile);
    expect(rt.rois.map((r) => r.name).sort()).toEqual(['Bowel_Small', 'Stomach_Clinic']);
    const seg = readDicomSeg(await readFile(segFile), segFile);
    expect(seg.segments.map((x) => x.label).sort()).toEqual(['Bowel_Small', 'Stomach_Clinic']);

    // Read back: "Stomach_Clinic" is the stomach only by the clinic's names, which the app passes on open.
    const rtDir = path.dirname(rtFile);
    const hasStomach = (d: Dataset) => [...d.masks.values()].some((m) => m.stomach);
    expect(hasStomach(await openDataset(rtDir))).toBe(false);
    expect(hasStomach(await openDataset(rtDir, { roiNames: clinic }))).toBe(true);
    const opened: unknown[] = [];
    const spying = createHandlers({
      ...handlerContext(settingsFile),
      engine: {
        openDataset: (root: string, opts?: object) => (opened.push(opts), openDataset(root, opts)),
      } as unknown as Engine,
    });
    await spying['dataset:open']({ path: rtDir });
    expect(opened).toEqual([{ roiNames: clinic }]);
  });

  it('a settings file with bad names (edited by hand) falls back to the defaults', async () => {
    const settingsFile = path.join(tmp, 'settings.json');
    await writeFile(settingsFile, JSON.stringify({ locale: 'fr', roiNames: { stomach: 'Bowel_Small' } }));
    // the whole file is refused, as for any other invalid field: never a half-applied file
    expect(await new SettingsStore(settingsFile).get()).toMatchObject({ locale: 'en', roiNames: {} });
  });
});

async function pngFolder(root: string): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const n of [1, 2, 3]) {
    const data = Uint8Array.from({ length: W * H }, (_, k) => (k * 5 + n) % 251);
    await writeFile(path.join(root, `slice_000${n}.png`), encodePngGray8({ width: W, height: H, data }));
  }
}

describe('tractus export <segment output>', () => {
  it('exports the predictions a segment run saved per scan', async () => {
    const root = path.join(tmp, 'pngs');
    await pngFolder(root);
    const scan = allScans(await openDataset(root))[0]!;
    const mask = new Uint8Array(W * H);
    for (const p of [40, 41, 42, 52, 53, 54]) mask[p] = 1;
    const run = path.join(tmp, 'run');
    await mkdir(path.join(run, '.parts'), { recursive: true });
    await writeFile(path.join(run, 'summary.json'), JSON.stringify({ input: root }));
    await writeFile(
      path.join(run, '.parts', '00000-x.json'),
      JSON.stringify({
        slices: scan.slices.map((s, i) => ({
          id: s.id,
          masks: i === 1 ? { large_bowel: { coco: encodeCocoRle({ width: W, height: H, data: mask }) } } : {},
        })),
      }),
    );
    const result = await exportFromPath({ input: run, targets: ['dicom-seg', 'nifti'], out: run });
    expect(result.files.map((f) => path.relative(run, f))).toEqual([
      `${scan.id}.mr`,
      `${scan.id}.seg.dcm`,
      `${scan.id}.seg.nii.gz`,
    ]);
    // The run folder now holds the MR series and the SEG that references it: opened, the SEG is its masks.
    const back = await openDataset(run);
    const slices = allScans(back)[0]!.slices;
    expect(back.masks.get(slices[1]!.id)?.large_bowel?.data).toEqual(mask);
    expect(back.masks.size).toBe(1);
    await rm(path.join(run, '.parts'), { recursive: true });
    await expect(exportFromPath({ input: run, targets: ['nifti'], out: run })).rejects.toThrow(
      /\.parts: no per-scan results/,
    );
  });
});

describe('tractus export <workspace>', () => {
  it('exports the reviewed masks of a workspace folder, as MANUAL contours', async () => {
    const root = path.join(tmp, 'pngs');
    await pngFolder(root);
    const h = createHandlers({
      engine: { openDataset } as unknown as Engine, // export needs nothing else of the engine
      settings: new SettingsStore(path.join(tmp, 'settings.json')),
      emit: () => {},
      transport: 'http',
      version: 'test',
      demoDir: '/data/demo',
      workspaceBase: tmp,
    });
    const summary = await h['dataset:open']({ path: root });
    const scan = summary.patients[0]!.days[0]!.scans[0]!;
    const mask = new Uint8Array(W * H);
    for (const p of [50, 51, 62, 63]) mask[p] = 1;
    await h['masks:save']({
      scanId: scan.id,
      sliceId: scan.slices[2]!.id,
      masks: { small_bowel: encodeMask({ width: W, height: H, data: mask }) },
    });
    const out = path.join(tmp, 'ws-export');
    const result = await exportFromPath({ input: summary.workspace, targets: ['rtstruct'], out });
    expect(result.files.map((f) => path.basename(f))).toEqual([`${scan.id}.mr`, `${scan.id}.rtstruct.dcm`]);
    const back = await openDataset(out);
    const slices = allScans(back)[0]!.slices;
    expect(back.masks.get(slices[2]!.id)?.small_bowel?.data).toEqual(mask);
    expect([0, 1].map((i) => back.masks.get(slices[i]!.id))).toEqual([undefined, undefined]);
  });
});
