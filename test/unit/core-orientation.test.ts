import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ASSUMED_AXIAL_RADIOLOGICAL,
  directionLetters,
  orientationLetters,
} from '../../main/core/orientation';
import { allScans } from '../../main/core/types';
import { openDicomFile } from '../../main/imaging/dicom';
import { openDataset } from '../../main/imaging/open';
import { FIXTURES } from '../helpers/shared-data';

describe('orientation letters', () => {
  it('name LPS directions the way DICOM viewers do, strongest component first', () => {
    expect(directionLetters([1, 0, 0])).toBe('L');
    expect(directionLetters([-1, 0, 0])).toBe('R');
    expect(directionLetters([0, 1, 0])).toBe('P');
    expect(directionLetters([0, 0, -1])).toBe('I');
    expect(directionLetters([-0.9, 0.4, 0])).toBe('RP');
    expect(directionLetters([0.998, 0, -0.063])).toBe('L'); // 3.6° tilt: still plain axial
  });

  it('standard axial DICOM storage (IOP 1\\0\\0\\0\\1\\0) has patient right on the image left', () => {
    expect(orientationLetters([1, 0, 0], [0, 1, 0])).toEqual({
      left: 'R',
      right: 'L',
      top: 'A',
      bottom: 'P',
      assumed: false,
    });
    // a coronal image: columns toward patient left, rows toward inferior
    expect(orientationLetters([1, 0, 0], [0, 0, -1])).toMatchObject({ top: 'S', bottom: 'I' });
  });

  it('come from ImageOrientationPatient of a real DICOM file', async () => {
    const [scan] = allScans(await openDicomFile(path.join(FIXTURES, 'imaging/dicom/MR_small.dcm')));
    expect(scan!.orientation).toEqual({ left: 'R', right: 'L', top: 'A', bottom: 'P', assumed: false });
  });

  it('PNG inputs (UW-Madison layout) are axial radiological by assumption, and say so', async () => {
    const dataset = await openDataset(path.join(FIXTURES, 'imaging/site-sample/images'));
    for (const scan of allScans(dataset)) expect(scan.orientation).toEqual(ASSUMED_AXIAL_RADIOLOGICAL);
  });
});
