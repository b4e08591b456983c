/**
 * Writing DICOM Part 10 files through dcmjs (a maintained DICOM library), with the helpers every Tractus
 * writer shares: stable UIDs, value formatting within the VR limits, and the file meta header.
 */
import { createHash } from 'node:crypto';
import dcmjs, { type NaturalDataset } from 'dcmjs';
import { writeFileAtomic } from '../io/files';

export type { NaturalDataset };

const EXPLICIT_LE = '1.2.840.10008.1.2.1';
/** Tractus's implementation identity in the file meta header (a UUID-derived 2.25 root, fixed). */
export const IMPLEMENTATION_CLASS_UID = '2.25.153217406716549416738092137715830331473';
export const IMPLEMENTATION_VERSION = 'TRACTUS_0_1';
export const MANUFACTURER = 'Tractus';
export const SOFTWARE_VERSION = '0.1.0';

export const SOP_CLASS = {
  mrImage: '1.2.840.10008.5.1.4.1.1.4',
  rtStructureSet: '1.2.840.10008.5.1.4.1.1.481.3',
  segmentation: '1.2.840.10008.5.1.4.1.1.66.4',
} as const;

/**
 * A UID derived from a key (a "2.25." UUID-style UID from SHA-256): the same scan exported twice gets the
 * same series and instance UIDs, so an RTSTRUCT written later still references the MR series written earlier.
 */
export function stableUid(key: string): string {
  const digest = createHash('sha256').update(key).digest();
  // 2.25 UIDs are decimal UUIDs: 128 bits, here with the RFC 4122 version-4 bits set so they are valid UUIDs.
  const bytes = Buffer.from(digest.subarray(0, 16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${bytes.toString('hex')}`).toString(10)}`;
}

/**
 * A decimal string (DS) of at most 16 characters: fixed decimals where they fit, otherwise fewer. A DS that
 * dcmjs wrote as a JavaScript number could be 18 digits long, which DICOM forbids.
 */
export function ds(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`cannot write ${value} as a DICOM decimal string`);
  for (let decimals = 6; decimals >= 0; decimals--) {
    let s = value.toFixed(decimals);
    if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
    if (s === '-0') s = '0';
    if (s.length <= 16) return s;
  }
  const s = value.toExponential(8);
  return s.length <= 16 ? s : value.toExponential(5);
}

/** DICOM DA and TM of a moment, in UTC (the offset is written beside them). */
export function dicomDateTime(when: Date): { date: string; time: string } {
  const iso = when.toISOString(); // 2026-11-30T07:19:50.123Z
  return {
    date: iso.slice(0, 10).replace(/-/g, ''),
    time: iso.slice(11, 19).replace(/:/g, ''),
  };
}

/** Serialise a naturalised data set (keyword names) with its file meta header; explicit VR little endian. */
export function encodeDicom(dataset: NaturalDataset): Uint8Array {
  const { DicomDict, DicomMetaDictionary } = dcmjs.data;
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: EXPLICIT_LE,
    ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
    ImplementationVersionName: IMPLEMENTATION_VERSION,
    _vrMap: { FileMetaInformationVersion: 'OB' },
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return new Uint8Array(dict.write());
}

export async function writeDicomFile(file: string, dataset: NaturalDataset): Promise<void> {
  await writeFileAtomic(file, encodeDicom(dataset));
}

/** A code sequence item (CodeValue, CodingSchemeDesignator, CodeMeaning). */
export interface Code {
  value: string;
  scheme: string;
  meaning: string;
}

export function codeItem(code: Code): NaturalDataset {
  return { CodeValue: code.value, CodingSchemeDesignator: code.scheme, CodeMeaning: code.meaning };
}
