import { describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../main/cli/program';
import { REPO_ROOT, describeWithSharedData, sharedPath } from '../helpers/shared-data';
import path from 'node:path';
import { mkdtempSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { writePngGray8 } from '../../main/imaging/png';

async function infoJson(...args: string[]): Promise<Record<string, unknown>> {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  });
  try {
    await buildProgram()
      .exitOverride()
      .parseAsync(['node', 'tractus', 'info', ...args, '--json']);
  } finally {
    spy.mockRestore();
  }
  return JSON.parse(chunks.join('')) as Record<string, unknown>;
}

describe('tractus info', () => {
  it('describes the bundled demo patient: 1 patient, 2 days of 36 slices, all with masks', async () => {
    // data/demo/README.md: generated with --cases 1 --days 2 --slices 36 --size 266
    const summary = await infoJson(path.join(REPO_ROOT, 'data/demo'));
    expect(summary).toMatchObject({ patients: 1, studies: 2, scans: 2, slices: 72, sizes: { '266×266': 2 } });
  });
});

describeWithSharedData('tractus info on real DICOM', () => {
  it('lists the readable series and says why each other file was skipped', async () => {
    const summary = await infoJson(sharedPath('dicom/pydicom'));
    const warnings = summary.warningList as Array<{ where: string; problem: string }>;
    const skipped = warnings.map((w) => path.basename(w.where));
    expect(skipped).toEqual(
      // JPEG-LS is decoded now (dicom-codecs); the CT is named as not abdominal MR
      expect.arrayContaining(['MR_truncated.dcm', 'rtstruct.dcm', '1CT1_20040119_series1']),
    );
    expect(summary.scans).toBeGreaterThanOrEqual(2);
  });
});

describe('tractus info: damaged files', () => {
  it('reports a truncated PNG (header intact, pixels cut off) once, naming the file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tractus-info-'));
    const scanDir = path.join(dir, 'case3_day1');
    for (let k = 1; k <= 3; k++) {
      await writePngGray8(path.join(scanDir, `slice_000${k}.png`), {
        width: 16,
        height: 16,
        data: Uint8Array.from({ length: 256 }, (_, i) => (i * 7 + k) % 251),
      });
    }
    const bad = path.join(scanDir, 'slice_0002.png');
    truncateSync(bad, 60);
    const summary = await infoJson(scanDir);
    const warnings = summary.warningList as Array<{ where: string; problem: string }>;
    expect(warnings).toEqual([{ where: bad, problem: expect.stringMatching(/truncated PNG/) }]);

    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
      lines.push(...String(c).split('\n'));
      return true;
    });
    try {
      await buildProgram().exitOverride().parseAsync(['node', 'tractus', 'info', scanDir]);
    } finally {
      spy.mockRestore();
    }
    expect(lines.filter((l) => l.includes('slice_0002.png'))).toEqual([
      expect.stringMatching(/^warning: .*slice_0002\.png: truncated PNG/),
    ]);
  });
});
