import { describe, expect, it } from 'vitest';
import { formatWarnings } from '../../main/core/warnings';

describe('warnings grouped by reason', () => {
  it('one line per reason: "N files: <reason>; e.g. <file>", a single one as "<file>: <reason>"', () => {
    const skipped = 'skipped: no pixel data (a RTSTRUCT object), not an image';
    expect(
      formatWarnings([
        { where: '/d/a.dcm', problem: skipped },
        { where: '/d/b.dcm', problem: 'skipped: truncated or corrupt DICOM file' },
        { where: '/d/c.dcm', problem: skipped },
        { where: '/d/c.dcm', problem: skipped }, // the same file twice counts once
        {
          where: 'case1_day1',
          problem: 'not the axial abdominal MR the model was made for (modality CT, not MR)',
        },
      ]),
    ).toEqual([
      `2 files: ${skipped}; e.g. /d/a.dcm`,
      '/d/b.dcm: skipped: truncated or corrupt DICOM file',
      'case1_day1: not the axial abdominal MR the model was made for (modality CT, not MR)',
    ]);
  });
});
