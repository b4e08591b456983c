import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isInputError } from '../../main/core/errors';
import { derivedPatients, readDerivedPatients, withoutDerivedFrom } from '../../main/synth/provenance';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'synth-provenance-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('which real patients a synthetic scan was made from', () => {
  it('reads transplants (images and label maps), SynthSeg renderings (label maps) and phantoms (none)', () => {
    const transplant = {
      generator: 'tractus synth transplant',
      scans: [
        { scanId: 'case7108_day0', source: 'case30_day0', label: 'case108_day0' },
        { scanId: 'case7030_day100', source: 'case30_day0', label: 'case30_day7' },
      ],
    };
    expect([...derivedPatients(transplant, 'synth.json')]).toEqual([
      ['case7108_day0', ['case30', 'case108']],
      ['case7030_day100', ['case30']],
    ]);
    // SynthSeg: case{8000+N}_day{D+100·variant} renders caseN's label maps
    const synthseg = { generator: 'tractus synth synthseg', scans: ['case8016_day0', 'case8020_day122'] };
    expect([...derivedPatients(synthseg, 'synth.json')]).toEqual([
      ['case8016_day0', ['case16']],
      ['case8020_day122', ['case20']],
    ]);
    const phantom = { generator: 'tractus synth phantom', scans: ['case9001_day0'] };
    expect([...derivedPatients(phantom, 'synth.json')]).toEqual([['case9001_day0', []]]);
  });

  it('names the file and the problem when synth.json is not what it should be', () => {
    for (const bad of [
      null,
      { generator: 'tractus synth transplant' },
      { generator: 'someone else', scans: [] },
      {
        generator: 'tractus synth transplant',
        scans: [{ scanId: 'x', source: 'nope', label: 'case1_day0' }],
      },
      { generator: 'tractus synth synthseg', scans: [42] },
    ]) {
      try {
        derivedPatients(bad, 'dir/synth.json');
        expect.unreachable();
      } catch (e) {
        expect(isInputError(e)).toBe(true);
        expect((e as Error).message.startsWith('dir/synth.json')).toBe(true);
      }
    }
  });

  it('is undefined for a folder without synth.json (real data) and read from the file otherwise', async () => {
    expect(await readDerivedPatients(tmp)).toBeUndefined();
    writeFileSync(
      path.join(tmp, 'synth.json'),
      JSON.stringify({ generator: 'tractus synth synthseg', scans: ['case8033_day0'] }),
    );
    expect([...(await readDerivedPatients(tmp))!]).toEqual([['case8033_day0', ['case33']]]);
  });
});

describe('extra slices without the tested patients’ data', () => {
  const slice = (id: string) => ({ scan: { id } });
  const extra = [
    slice('case7108_day0'),
    slice('case7108_day0'),
    slice('case7030_day0'),
    slice('case9001_day0'),
  ];
  const derived = new Map([
    ['case7108_day0', ['case30', 'case108']],
    ['case7030_day0', ['case146', 'case30']],
    ['case9001_day0', []],
  ]);

  it('drops every slice of a scan made from any tested patient, keeps the rest and their order', () => {
    expect(withoutDerivedFrom(extra, derived, ['case108']).map((s) => s.scan.id)).toEqual([
      'case7030_day0',
      'case9001_day0',
    ]);
    expect(withoutDerivedFrom(extra, derived, ['case30']).map((s) => s.scan.id)).toEqual(['case9001_day0']);
    expect(withoutDerivedFrom(extra, derived, ['case47'])).toHaveLength(4);
  });

  it('keeps everything when the source records no provenance (real data, a COCO file)', () => {
    expect(withoutDerivedFrom(extra, undefined, ['case30'])).toHaveLength(4);
  });
});
