/** In-memory scans for tests: the dataset model without files, pixels from a formula. */
import type { Scan, SliceImage } from '../../main/core/types';

export interface InMemoryScanOptions {
  /** `caseN_dayD`: patient and day are taken from it */
  id: string;
  slices: number;
  width: number;
  height: number;
  /** 16-bit value of pixel `p` (row-major) on slice `i` */
  pixel: (i: number, p: number) => number;
}

export function inMemoryScan({ id, slices, width, height, pixel }: InMemoryScanOptions): Scan {
  const [patientId = id, day = 'day0'] = id.split('_');
  return {
    id,
    patientId,
    studyId: id,
    day,
    width,
    height,
    pixelSpacing: null,
    sliceThickness: null,
    intensity: 'uint16',
    source: 'png',
    slices: Array.from({ length: slices }, (_, i) => ({ id: `s${i + 1}`, number: i + 1, width, height })),
    readSlice: async (i: number): Promise<SliceImage> => ({
      width,
      height,
      data: Uint16Array.from({ length: width * height }, (_, p) => pixel(i, p)),
    }),
  };
}
