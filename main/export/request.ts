/** What the RTSTRUCT and DICOM-SEG writers are given: one scan's masks, where they lie, how to name them. */
import type { Scan, SliceMasks } from '../core/types';
import type { ScanGeometry } from './geometry';
import type { RoiNames } from './organ-names';
import type { ImageReferences } from './source';

export interface ContourExportRequest {
  scan: Scan;
  geometry: ScanGeometry;
  refs: ImageReferences;
  /** Masks by slice id. */
  masks: Map<string, SliceMasks>;
  names: RoiNames;
  /** AUTOMATIC for model predictions, MANUAL (reviewed) for a workspace export. */
  algorithm: 'AUTOMATIC' | 'MANUAL';
  /** Scopes the new object's UIDs. */
  key: string;
  when: Date;
}
