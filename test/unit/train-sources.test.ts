import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { InputError } from '../../main/core/errors';
import { labelledSlices, SampleBuilder } from '../../main/model/train/dataset';
import { openTrainingSource } from '../../main/model/train/sources';
import { describeWithSharedData, sharedPath } from '../helpers/shared-data';

const temps: string[] = [];
afterAll(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

describeWithSharedData('training sources on the real site sample (COCO)', () => {
  const coco = sharedPath('site-sample/annotations.coco.json');

  it('groups the 16 slices of 6 patients into scans with their masks and builds samples', async () => {
    const ds = await openTrainingSource(coco);
    // README: 16 real slices of cases 101, 107, 11, 110, 113, 114.
    expect(ds.patients.map((p) => p.id).sort()).toEqual([
      'case101',
      'case107',
      'case11',
      'case110',
      'case113',
      'case114',
    ]);
    const slices = labelledSlices(ds);
    expect(slices).toHaveLength(16);
    expect(slices.some((s) => s.sliceId === 'case101_day20_slice_0078')).toBe(true);
    expect(slices.filter((s) => s.hasOrgan).length).toBeGreaterThan(10);
    const sample = await new SampleBuilder({ input: { height: 64, width: 64 }, sliceStride: 2 }).sample(
      slices[0]!,
    );
    expect(sample.image.data.length).toBe(64 * 64 * 3);
    expect(Math.max(...sample.image.data)).toBeLessThanOrEqual(1);
  });

  it('a list file joins sources; a repeated scan and a missing file are InputErrors', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tractus-sources-'));
    temps.push(dir);
    const list = path.join(dir, 'sources.txt');
    writeFileSync(list, `# the site sample\n${coco}\n`);
    expect(labelledSlices(await openTrainingSource(list))).toHaveLength(16);
    writeFileSync(list, `${coco}\n${coco}\n`);
    await expect(openTrainingSource(list)).rejects.toThrow(/more than one source/);
    writeFileSync(list, `missing.json\n`);
    await expect(openTrainingSource(list)).rejects.toBeInstanceOf(InputError);
    writeFileSync(list, `sources.txt\n`);
    await expect(openTrainingSource(list)).rejects.toThrow(/nest too deep/);
  });
});
