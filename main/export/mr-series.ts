/**
 * An MR image series for a scan whose source has no DICOM (UW-Madison or plain PNG, NIfTI), so an RTSTRUCT
 * or SEG has images to reference and a planning system imports the pair together. One MR Image Storage
 * file per slice, 16-bit, with the scan's geometry (./source). The UIDs derive from the scan's identity
 * (stableUid), so exporting the same scan again gives the same series.
 *
 * Pixel values: 8- and 16-bit integer scans are written as they are; float scans are mapped linearly onto
 * 0–4095 (the MR Image IOD has no rescale), which keeps them viewable and contourable.
 */
import path from 'node:path';
import type { PixelArray, Scan } from '../core/types';
import {
  MANUFACTURER,
  SOFTWARE_VERSION,
  SOP_CLASS,
  dicomDateTime,
  ds,
  stableUid,
  writeDicomFile,
  type NaturalDataset,
} from './dicom-write';
import { dot, sliceNormal, type ScanGeometry } from './geometry';
import type { ImageReferences } from './source';

export interface WrittenSeries {
  references: ImageReferences;
  files: string[];
}

/** Patient/study identity of a scan without DICOM: its ids, the day as the study (UW-Madison `dayD`). */
export function syntheticReferences(scan: Scan, key: string, date: Date): ImageReferences {
  const { date: today } = dicomDateTime(date);
  const studyDate = /^\d{8}$/.test(scan.day) ? scan.day : today;
  return {
    patientName: scan.patientId,
    patientId: scan.patientId,
    patientBirthDate: '',
    patientSex: '',
    studyInstanceUid: stableUid(`${key}/study/${scan.patientId}/${scan.studyId}`),
    studyDate,
    studyTime: '000000',
    studyId: scan.day.slice(0, 16),
    accessionNumber: '',
    referringPhysicianName: '',
    studyDescription: scan.day,
    seriesInstanceUid: stableUid(`${key}/series/${scan.id}`),
    frameOfReferenceUid: stableUid(`${key}/frame/${scan.id}`),
    instances: scan.slices.map((s) => ({
      sopClassUid: SOP_CLASS.mrImage,
      sopInstanceUid: stableUid(`${key}/image/${scan.id}/${s.id}`),
    })),
  };
}

/** Patient, study and frame-of-reference attributes every written object carries (Type 2 may be empty). */
export function patientStudyAttributes(refs: ImageReferences): NaturalDataset {
  return {
    PatientName: refs.patientName,
    PatientID: refs.patientId,
    PatientBirthDate: refs.patientBirthDate,
    PatientSex: refs.patientSex,
    StudyInstanceUID: refs.studyInstanceUid,
    StudyDate: refs.studyDate,
    StudyTime: refs.studyTime,
    StudyID: refs.studyId,
    AccessionNumber: refs.accessionNumber,
    ReferringPhysicianName: refs.referringPhysicianName,
    ...(refs.studyDescription ? { StudyDescription: refs.studyDescription.slice(0, 64) } : {}),
  };
}

function toStored(
  data: PixelArray,
  range: { min: number; max: number } | undefined,
): Uint16Array | Int16Array {
  if (data instanceof Int16Array) return data;
  if (data instanceof Uint16Array) return data;
  if (data instanceof Uint8Array) return Uint16Array.from(data);
  const out = new Uint16Array(data.length);
  const { min, max } = range!;
  const k = max > min ? 4095 / (max - min) : 0;
  for (let i = 0; i < data.length; i++) out[i] = Math.round((data[i]! - min) * k);
  return out;
}

/**
 * Write the series into `dir` (MR_0001.dcm …). `key` scopes the UIDs (the dataset root), `when` stamps
 * the instance creation time.
 */
export async function writeMrSeries(
  scan: Scan,
  geometry: ScanGeometry,
  dir: string,
  key: string,
  when: Date,
): Promise<WrittenSeries> {
  const refs = syntheticReferences(scan, key, when);
  const slices = [];
  for (let i = 0; i < scan.slices.length; i++) slices.push(await scan.readSlice(i));
  let range: { min: number; max: number } | undefined;
  if (scan.intensity === 'float32') {
    range = { min: Infinity, max: -Infinity };
    for (const s of slices)
      for (const v of s.data) [range.min, range.max] = [Math.min(range.min, v), Math.max(range.max, v)];
  }
  const signed = scan.intensity === 'int16';
  const { date, time } = dicomDateTime(when);
  const files: string[] = [];
  const normal = sliceNormal(geometry);
  const common: NaturalDataset = {
    SpecificCharacterSet: 'ISO_IR 192',
    ImageType: ['DERIVED', 'SECONDARY', 'OTHER'],
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    SOPClassUID: SOP_CLASS.mrImage,
    ...patientStudyAttributes(refs),
    Modality: 'MR',
    SeriesInstanceUID: refs.seriesInstanceUid,
    SeriesNumber: '900',
    SeriesDescription: `Tractus images of ${scan.id}`.slice(0, 64),
    Laterality: '',
    PatientPosition: 'HFS',
    FrameOfReferenceUID: refs.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    Manufacturer: MANUFACTURER,
    SoftwareVersions: SOFTWARE_VERSION,
    ContentDate: refs.studyDate,
    ContentTime: refs.studyTime,
    DerivationDescription: geometry.assumed
      ? 'Converted from images without patient geometry; axial orientation assumed'
      : 'Converted from a NIfTI volume',
    BurnedInAnnotation: 'NO',
    ImageOrientationPatient: [...geometry.orientation[0], ...geometry.orientation[1]].map(ds),
    PixelSpacing: geometry.pixelSpacing.map(ds),
    SliceThickness: ds(geometry.sliceThickness),
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: scan.height,
    Columns: scan.width,
    BitsAllocated: 16,
    BitsStored: 16,
    HighBit: 15,
    PixelRepresentation: signed ? 1 : 0,
    ScanningSequence: 'RM',
    SequenceVariant: 'NONE',
    ScanOptions: '',
    MRAcquisitionType: '2D',
    RepetitionTime: '',
    EchoTime: '',
    EchoTrainLength: '',
  };
  for (let i = 0; i < slices.length; i++) {
    const position = geometry.positions[i]!;
    const stored = toStored(slices[i]!.data, range);
    const file = path.join(dir, `MR_${String(i + 1).padStart(4, '0')}.dcm`);
    await writeDicomFile(file, {
      ...common,
      SOPInstanceUID: refs.instances[i]!.sopInstanceUid,
      InstanceNumber: String(i + 1),
      ImagePositionPatient: position.map(ds),
      SliceLocation: ds(dot(position, normal)),
      PixelData: [stored.buffer.slice(stored.byteOffset, stored.byteOffset + stored.byteLength)],
      _vrMap: { PixelData: 'OW' },
    });
    files.push(file);
  }
  return { references: refs, files };
}
