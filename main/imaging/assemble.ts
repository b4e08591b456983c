/**
 * Builds the Dataset tree (patient → study → scan) from a flat list of scans, the one way every loader
 * assembles its result, and the lazy PNG-backed scan that UW-Madison, plain folders and COCO share.
 */
import { InputError } from '../core/errors';
import { ASSUMED_AXIAL_RADIOLOGICAL } from '../core/orientation';
import type { Dataset, IntensityType, Patient, Scan, ScanInfo, SliceImage, SliceMasks } from '../core/types';
import { readPngSlice } from './png';

/** Group scans by patient, then by study; patients, studies and scans keep a stable sorted order. */
export function assembleDataset(root: string, scans: Scan[], masks = new Map<string, SliceMasks>()): Dataset {
  const patients = new Map<string, Patient>();
  for (const scan of [...scans].sort((a, b) => naturalCompare(a.id, b.id))) {
    let patient = patients.get(scan.patientId);
    if (!patient) {
      patient = { id: scan.patientId, studies: [] };
      patients.set(scan.patientId, patient);
    }
    let study = patient.studies.find((s) => s.id === scan.studyId);
    if (!study) {
      study = { id: scan.studyId, patientId: scan.patientId, day: scan.day, scans: [] };
      patient.studies.push(study);
    }
    study.scans.push(scan);
  }
  const sorted = [...patients.values()].sort((a, b) => naturalCompare(a.id, b.id));
  for (const p of sorted) p.studies.sort((a, b) => naturalCompare(a.id, b.id));
  return { root, patients: sorted, masks };
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** "slice_2" before "slice_10", "case9" before "case10". */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** A scan whose slices are PNG files, decoded only when asked for. */
export function pngScan(info: ScanInfo): Scan {
  return {
    // PNG slices carry no orientation: the UW-Madison data are axial, shown radiologically
    orientation: { ...ASSUMED_AXIAL_RADIOLOGICAL },
    ...info,
    async readSlice(index: number): Promise<SliceImage> {
      const slice = info.slices[index];
      if (!slice?.file) throw new RangeError(`scan ${info.id} has no slice ${index}`);
      const image = await readPngSlice(slice.file);
      if (image.width !== slice.width || image.height !== slice.height) {
        throw new InputError(
          slice.file,
          `image is ${image.width}×${image.height} but ${slice.width}×${slice.height} was expected`,
        );
      }
      return image;
    },
  };
}

export function intensityOfBitDepth(bitDepth: number): IntensityType {
  return bitDepth === 16 ? 'uint16' : 'uint8';
}
