/**
 * How exported structures are named, coloured and coded. ROI names are AAPM TG-263's (Bowel_Large,
 * Bowel_Small, Stomach) unless a clinic maps them to its own; colours are Tractus's fixed organ colours
 * (the viewer's and the PNG masks'); anatomic codes are SNOMED CT, as DICOM's CID 7166 lists them.
 */
import { InputError } from '../core/errors';
import { ORGANS, isOrgan, type Organ } from '../core/organs';
import type { Code } from './dicom-write';

export const TG263_NAMES: Record<Organ, string> = {
  large_bowel: 'Bowel_Large',
  small_bowel: 'Bowel_Small',
  stomach: 'Stomach',
};

/** RGB, the same as renderer/lib/organ-colours (yellow large bowel, green small bowel, red stomach). */
export const ORGAN_COLOURS: Record<Organ, [number, number, number]> = {
  large_bowel: [255, 214, 0],
  small_bowel: [0, 200, 83],
  stomach: [235, 40, 40],
};

/** SCT codes of the segmented property (DICOM CID 7150 category, CID 7166 / 4031 types). */
export const ANATOMIC_CATEGORY: Code = { value: '123037004', scheme: 'SCT', meaning: 'Anatomical Structure' };
export const ANATOMIC_TYPES: Record<Organ, Code> = {
  large_bowel: { value: '14742008', scheme: 'SCT', meaning: 'Large intestine' },
  small_bowel: { value: '30315005', scheme: 'SCT', meaning: 'Small intestine' },
  stomach: { value: '69695003', scheme: 'SCT', meaning: 'Stomach' },
};

export type RoiNames = Record<Organ, string>;

/**
 * `large_bowel=Colon,stomach=Stomach_PRV` → names with the TG-263 defaults for organs not given. An RT
 * ROI name is a DICOM LO: at most 64 characters, no backslash.
 */
export function parseRoiNames(spec: string | undefined, where = '--roi-names'): RoiNames {
  const names = { ...TG263_NAMES };
  if (!spec) return names;
  for (const part of spec.split(',')) {
    const [organ, name] = part.split('=').map((s) => s.trim());
    if (!organ || !isOrgan(organ) || !name) {
      throw new InputError(where, `"${part}" is not organ=name with organ one of ${ORGANS.join(', ')}`);
    }
    if (name.length > 64 || name.includes('\\')) {
      throw new InputError(where, `ROI name "${name}" must be at most 64 characters, without backslash`);
    }
    names[organ] = name;
  }
  return names;
}
