/**
 * DICOM Segmentation (binary) writer: one segment per organ present with its SNOMED CT category and type
 * (./organ-names), one frame per slice where that organ is present, each frame with its plane position and
 * the SOP instance of the slice it was derived from; frames bit-packed one after another (the standard's
 * BINARY layout). The data set is assembled here and encoded by dcmjs; pydicom reads it back in the tests.
 */
import { ORGANS, type Organ } from '../core/organs';
import {
  MANUFACTURER,
  SOFTWARE_VERSION,
  SOP_CLASS,
  codeItem,
  dicomDateTime,
  ds,
  stableUid,
  type NaturalDataset,
} from './dicom-write';
import { sliceSpacingOf } from './geometry';
import { patientStudyAttributes } from './mr-series';
import { ANATOMIC_CATEGORY, ANATOMIC_TYPES, ORGAN_COLOURS } from './organ-names';
import type { ContourExportRequest } from './request';

// Attribute tags as DICOM AT values, for the dimension index pointers.
const TAG_REFERENCED_SEGMENT_NUMBER = 0x0062000b;
const TAG_SEGMENT_IDENTIFICATION_SEQUENCE = 0x0062000a;
const TAG_IMAGE_POSITION_PATIENT = 0x00200032;
const TAG_PLANE_POSITION_SEQUENCE = 0x00209113;

export type SegmentationRequest = ContourExportRequest;

export interface Segmentation {
  /** Undefined when no organ is present on any slice (a SEG needs at least one frame). */
  dataset: NaturalDataset | undefined;
  /** Frames per organ. */
  frames: Partial<Record<Organ, number>>;
}

/** sRGB → CIELab scaled to DICOM's 16-bit RecommendedDisplayCIELabValue (PS3.3 C.10.7.1.1). */
export function dicomLab([r, g, b]: [number, number, number]): [number, number, number] {
  const linear = (c: number) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const [R, G, B] = [linear(r), linear(g), linear(b)];
  const X = (0.4124 * R + 0.3576 * G + 0.1805 * B) / 0.95047;
  const Y = 0.2126 * R + 0.7152 * G + 0.0722 * B;
  const Z = (0.0193 * R + 0.1192 * G + 0.9505 * B) / 1.08883;
  const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const L = 116 * f(Y) - 16;
  const a = 500 * (f(X) - f(Y));
  const bb = 200 * (f(Y) - f(Z));
  return [
    Math.round((L * 65535) / 100),
    Math.round(((a + 128) * 65535) / 255),
    Math.round(((bb + 128) * 65535) / 255),
  ];
}

export function buildSegmentation(req: SegmentationRequest): Segmentation {
  const { scan, geometry, refs, masks, names } = req;
  const { date, time } = dicomDateTime(req.when);
  const pixels = scan.width * scan.height;
  const frames: Array<{ organ: Organ; segment: number; slice: number; data: Uint8Array }> = [];
  const segments: NaturalDataset[] = [];
  const counts: Partial<Record<Organ, number>> = {};
  for (const organ of ORGANS) {
    const present = scan.slices.flatMap((slice, i) => {
      const mask = masks.get(slice.id)?.[organ];
      return mask && mask.data.some((v) => v !== 0) ? [{ i, data: mask.data }] : [];
    });
    if (present.length === 0) continue;
    const segment = segments.length + 1;
    counts[organ] = present.length;
    for (const { i, data } of present) frames.push({ organ, segment, slice: i, data });
    segments.push({
      SegmentNumber: segment,
      SegmentLabel: names[organ],
      SegmentAlgorithmType: req.algorithm,
      ...(req.algorithm === 'AUTOMATIC' ? { SegmentAlgorithmName: 'Tractus' } : {}),
      SegmentedPropertyCategoryCodeSequence: [codeItem(ANATOMIC_CATEGORY)],
      SegmentedPropertyTypeCodeSequence: [codeItem(ANATOMIC_TYPES[organ])],
      RecommendedDisplayCIELabValue: dicomLab(ORGAN_COLOURS[organ]),
    });
  }
  if (frames.length === 0) return { dataset: undefined, frames: counts };

  // BINARY segmentations pack every frame's bits one after another, least significant bit first.
  const packed = new Uint8Array(Math.ceil((frames.length * pixels) / 16) * 2);
  frames.forEach((frame, f) => {
    const base = f * pixels;
    for (let p = 0; p < pixels; p++) {
      if (frame.data[p]) packed[(base + p) >> 3] |= 1 << ((base + p) & 7);
    }
  });
  const imageRef = (i: number) => ({
    ReferencedSOPClassUID: refs.instances[i]!.sopClassUid,
    ReferencedSOPInstanceUID: refs.instances[i]!.sopInstanceUid,
  });
  const dimensionOrganizationUid = stableUid(`${req.key}/seg-dimensions`);
  const sopInstanceUid = stableUid(`${req.key}/seg/${scan.id}/${req.when.toISOString()}`);
  const dataset: NaturalDataset = {
    SpecificCharacterSet: 'ISO_IR 192',
    ImageType: ['DERIVED', 'PRIMARY'],
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    SOPClassUID: SOP_CLASS.segmentation,
    SOPInstanceUID: sopInstanceUid,
    ...patientStudyAttributes(refs),
    Modality: 'SEG',
    SeriesInstanceUID: stableUid(`${sopInstanceUid}/series`),
    SeriesNumber: '902',
    SeriesDescription: `Tractus segmentation of ${scan.id}`.slice(0, 64),
    FrameOfReferenceUID: refs.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    Manufacturer: MANUFACTURER,
    ManufacturerModelName: 'Tractus',
    DeviceSerialNumber: '1',
    SoftwareVersions: SOFTWARE_VERSION,
    InstanceNumber: '1',
    ContentDate: date,
    ContentTime: time,
    ContentLabel: 'GI_ORGANS',
    ContentDescription: 'Stomach, small and large bowel',
    ContentCreatorName: '',
    SegmentationType: 'BINARY',
    SegmentSequence: segments,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: scan.height,
    Columns: scan.width,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: '00',
    NumberOfFrames: String(frames.length),
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionOrganizationUid }],
    DimensionIndexSequence: [
      {
        DimensionOrganizationUID: dimensionOrganizationUid,
        DimensionIndexPointer: TAG_REFERENCED_SEGMENT_NUMBER,
        FunctionalGroupPointer: TAG_SEGMENT_IDENTIFICATION_SEQUENCE,
        DimensionDescriptionLabel: 'ReferencedSegmentNumber',
      },
      {
        DimensionOrganizationUID: dimensionOrganizationUid,
        DimensionIndexPointer: TAG_IMAGE_POSITION_PATIENT,
        FunctionalGroupPointer: TAG_PLANE_POSITION_SEQUENCE,
        DimensionDescriptionLabel: 'ImagePositionPatient',
      },
    ],
    SharedFunctionalGroupsSequence: [
      {
        PlaneOrientationSequence: [
          { ImageOrientationPatient: [...geometry.orientation[0], ...geometry.orientation[1]].map(ds) },
        ],
        PixelMeasuresSequence: [
          {
            PixelSpacing: geometry.pixelSpacing.map(ds),
            SliceThickness: ds(geometry.sliceThickness),
            SpacingBetweenSlices: ds(sliceSpacingOf(geometry)),
          },
        ],
      },
    ],
    PerFrameFunctionalGroupsSequence: frames.map((frame) => ({
      DerivationImageSequence: [
        {
          SourceImageSequence: [
            {
              ...imageRef(frame.slice),
              PurposeOfReferenceCodeSequence: [
                codeItem({
                  value: '121322',
                  scheme: 'DCM',
                  meaning: 'Source image for image processing operation',
                }),
              ],
            },
          ],
          DerivationCodeSequence: [codeItem({ value: '113076', scheme: 'DCM', meaning: 'Segmentation' })],
        },
      ],
      FrameContentSequence: [{ DimensionIndexValues: [frame.segment, frame.slice + 1] }],
      PlanePositionSequence: [{ ImagePositionPatient: geometry.positions[frame.slice]!.map(ds) }],
      SegmentIdentificationSequence: [{ ReferencedSegmentNumber: frame.segment }],
    })),
    ReferencedSeriesSequence: [
      {
        SeriesInstanceUID: refs.seriesInstanceUid,
        ReferencedInstanceSequence: scan.slices.map((_, i) => imageRef(i)),
      },
    ],
    PixelData: [packed.buffer],
    _vrMap: { PixelData: 'OB' },
  };
  return { dataset, frames: counts };
}
