/** Organ volumes of a scan: pixels inside × in-plane pixel area × slice thickness, in millilitres. */
import { ORGANS, type Organ } from '../core/organs';
import type { ScanInfo, SliceMasks } from '../core/types';

export function organVoxels(masks: Iterable<SliceMasks>): Record<Organ, number> {
  const voxels = { large_bowel: 0, small_bowel: 0, stomach: 0 } as Record<Organ, number>;
  for (const slice of masks) {
    for (const organ of ORGANS) {
      const m = slice[organ];
      if (!m) continue;
      let c = 0;
      for (let i = 0; i < m.data.length; i++) c += m.data[i] ? 1 : 0;
      voxels[organ] += c;
    }
  }
  return voxels;
}

/** mm³ per voxel, or null when the scan does not say its spacing or thickness. */
export function voxelVolumeMm3(scan: Pick<ScanInfo, 'pixelSpacing' | 'sliceThickness'>): number | null {
  if (!scan.pixelSpacing || scan.sliceThickness === null) return null;
  return scan.pixelSpacing[0] * scan.pixelSpacing[1] * scan.sliceThickness;
}

export function organVolumesMl(
  scan: Pick<ScanInfo, 'pixelSpacing' | 'sliceThickness'>,
  voxels: Record<Organ, number>,
): Record<Organ, number | null> {
  const mm3 = voxelVolumeMm3(scan);
  const out = {} as Record<Organ, number | null>;
  for (const organ of ORGANS) out[organ] = mm3 === null ? null : (voxels[organ] * mm3) / 1000;
  return out;
}
