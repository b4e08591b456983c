/**
 * How exported structures are named, coloured and coded. ROI names are AAPM TG-263's (Bowel_Large,
 * Bowel_Small, Stomach) unless a clinic maps them to its own; colours are Tractus's fixed organ colours
 * (the viewer's and the PNG masks'); anatomic codes are SNOMED CT, as DICOM's CID 7166 lists them.
 */
import { InputError } from '../core/errors';
import { ORGANS, TG263_NAMES, isOrgan, type Organ } from '../core/organs';
import type { Code } from './dicom-write';

// The defaults live with the organs (the renderer shows them); the exporters keep importing them from here.
export { TG263_NAMES };

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

/** An RT ROI name is a DICOM LO: at most 64 characters, no backslash (the value separator). */
export const ROI_NAME_MAX = 64;

/**
 * What is wrong with a clinic's names (only the organs it renames; the others keep TG-263's), or undefined.
 * One rule for `--roi-names` and the app's setting: each name non-empty, a valid LO, and no two organs named
 * alike, since a planning system tells structures apart by name.
 */
export function roiNamesProblem(overrides: Partial<Record<string, string>>): string | undefined {
  const names: Record<string, string> = { ...TG263_NAMES };
  for (const [organ, name] of Object.entries(overrides)) {
    if (!isOrgan(organ)) return `"${organ}" is not one of ${ORGANS.join(', ')}`;
    if (name === undefined) continue;
    const trimmed = name.trim();
    if (trimmed === '') return `the ROI name of ${organ} is empty`;
    if (trimmed.length > ROI_NAME_MAX || trimmed.includes('\\')) {
      return `ROI name "${trimmed}" must be at most ${ROI_NAME_MAX} characters, without backslash`;
    }
    names[organ] = trimmed;
  }
  const seen = new Map<string, string>();
  for (const organ of ORGANS) {
    const other = seen.get(names[organ]!);
    if (other) return `${other} and ${organ} are both named "${names[organ]}"`;
    seen.set(names[organ]!, organ);
  }
  return undefined;
}

/** A clinic's names over the TG-263 defaults; an InputError at `where` when roiNamesProblem finds one. */
export function resolveRoiNames(
  overrides: Partial<Record<Organ, string>> | undefined,
  where: string,
): RoiNames {
  const problem = roiNamesProblem(overrides ?? {});
  if (problem) throw new InputError(where, problem);
  const names = { ...TG263_NAMES };
  for (const organ of ORGANS) {
    const name = overrides?.[organ];
    if (name !== undefined) names[organ] = name.trim();
  }
  return names;
}

/** `large_bowel=Colon,stomach=Stomach_PRV` → names with the TG-263 defaults for organs not given. */
export function parseRoiNames(spec: string | undefined, where = '--roi-names'): RoiNames {
  const overrides: Partial<Record<Organ, string>> = {};
  for (const part of spec ? spec.split(',') : []) {
    const [organ, name] = part.split('=').map((s) => s.trim());
    if (!organ || !isOrgan(organ) || !name) {
      throw new InputError(where, `"${part}" is not organ=name with organ one of ${ORGANS.join(', ')}`);
    }
    overrides[organ] = name;
  }
  return resolveRoiNames(overrides, where);
}
