/**
 * RT Structure Set writer: one ROI per organ present, named and coloured as ./organ-names says, with closed
 * planar contours per slice in patient mm (./geometry: pixel-edge outlines, holes as keyhole cuts), each
 * contour referencing its slice's SOP instance and the structure set referencing the series' frame of
 * reference. Checked with dciodvfy and rasterised back with plastimatch in the tests.
 */
import { ORGANS, type Organ } from '../core/organs';
import {
  MANUFACTURER,
  SOFTWARE_VERSION,
  SOP_CLASS,
  dicomDateTime,
  ds,
  stableUid,
  type NaturalDataset,
} from './dicom-write';
import { maskContours } from './geometry';
import { patientStudyAttributes } from './mr-series';
import { ORGAN_COLOURS } from './organ-names';
import type { ContourExportRequest } from './request';

/** The Detached Study Management SOP class, which RTReferencedStudySequence items name by convention. */
const STUDY_COMPONENT_CLASS = '1.2.840.10008.3.1.2.3.1';

export type StructureSetRequest = ContourExportRequest;

export interface StructureSet {
  dataset: NaturalDataset;
  /** Organs with at least one contour, and how many contours each has. */
  contours: Partial<Record<Organ, number>>;
}

export function buildStructureSet(req: StructureSetRequest): StructureSet {
  const { scan, geometry, refs, masks, names } = req;
  const { date, time } = dicomDateTime(req.when);
  const imageRef = (i: number) => ({
    ReferencedSOPClassUID: refs.instances[i]!.sopClassUid,
    ReferencedSOPInstanceUID: refs.instances[i]!.sopInstanceUid,
  });
  const contours: Partial<Record<Organ, number>> = {};
  const roiContours: NaturalDataset[] = [];
  const rois: NaturalDataset[] = [];
  const observations: NaturalDataset[] = [];
  for (const organ of ORGANS) {
    const items: NaturalDataset[] = [];
    scan.slices.forEach((slice, i) => {
      const mask = masks.get(slice.id)?.[organ];
      if (!mask) return;
      for (const points of maskContours(geometry, i, mask)) {
        items.push({
          ContourImageSequence: [imageRef(i)],
          ContourGeometricType: 'CLOSED_PLANAR',
          NumberOfContourPoints: String(points.length / 3),
          ContourNumber: String(items.length + 1),
          ContourData: points.map(ds),
        });
      }
    });
    if (items.length === 0) continue;
    const number = String(rois.length + 1);
    contours[organ] = items.length;
    rois.push({
      ROINumber: number,
      ReferencedFrameOfReferenceUID: refs.frameOfReferenceUid,
      ROIName: names[organ],
      ROIGenerationAlgorithm: req.algorithm,
    });
    roiContours.push({
      ReferencedROINumber: number,
      ROIDisplayColor: ORGAN_COLOURS[organ].map(String),
      ContourSequence: items,
    });
    observations.push({
      ObservationNumber: number,
      ReferencedROINumber: number,
      RTROIInterpretedType: 'ORGAN',
      ROIInterpreter: '',
    });
  }
  const sopInstanceUid = stableUid(`${req.key}/rtstruct/${scan.id}/${req.when.toISOString()}`);
  const dataset: NaturalDataset = {
    SpecificCharacterSet: 'ISO_IR 192',
    InstanceCreationDate: date,
    InstanceCreationTime: time,
    SOPClassUID: SOP_CLASS.rtStructureSet,
    SOPInstanceUID: sopInstanceUid,
    ...patientStudyAttributes(refs),
    Modality: 'RTSTRUCT',
    SeriesInstanceUID: stableUid(`${sopInstanceUid}/series`),
    SeriesNumber: '901',
    SeriesDescription: `Tractus contours of ${scan.id}`.slice(0, 64),
    OperatorsName: '',
    FrameOfReferenceUID: refs.frameOfReferenceUid,
    PositionReferenceIndicator: '',
    Manufacturer: MANUFACTURER,
    ManufacturerModelName: 'Tractus',
    SoftwareVersions: SOFTWARE_VERSION,
    StructureSetLabel: 'Tractus GI',
    StructureSetName: req.algorithm === 'MANUAL' ? 'Reviewed GI organs' : 'Automatic GI organs',
    StructureSetDate: date,
    StructureSetTime: time,
    ReferencedFrameOfReferenceSequence: [
      {
        FrameOfReferenceUID: refs.frameOfReferenceUid,
        RTReferencedStudySequence: [
          {
            ReferencedSOPClassUID: STUDY_COMPONENT_CLASS,
            ReferencedSOPInstanceUID: refs.studyInstanceUid,
            RTReferencedSeriesSequence: [
              {
                SeriesInstanceUID: refs.seriesInstanceUid,
                ContourImageSequence: scan.slices.map((_, i) => imageRef(i)),
              },
            ],
          },
        ],
      },
    ],
    StructureSetROISequence: rois,
    ROIContourSequence: roiContours,
    RTROIObservationsSequence: observations,
    ApprovalStatus: 'UNAPPROVED',
  };
  return { dataset, contours };
}
