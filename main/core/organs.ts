/**
 * The three organs Tractus outlines, in the one order used everywhere:
 * model output channels, COCO category ids (1-based), Kaggle CSV rows, UI keys 1/2/3.
 */
export const ORGANS = ['large_bowel', 'small_bowel', 'stomach'] as const;
export type Organ = (typeof ORGANS)[number];

/**
 * The organs' structure names in AAPM TG-263, the default ROI names of every RTSTRUCT / DICOM-SEG export
 * (a clinic may rename them: main/export/organ-names). Here, not there, because the renderer shows them too.
 */
export const TG263_NAMES: Readonly<Record<Organ, string>> = {
  large_bowel: 'Bowel_Large',
  small_bowel: 'Bowel_Small',
  stomach: 'Stomach',
};

/** COCO category id of an organ: its 1-based position in ORGANS. */
export type CategoryId = 1 | 2 | 3;

export function categoryIdOf(organ: Organ): CategoryId {
  return (ORGANS.indexOf(organ) + 1) as CategoryId;
}

export function organOfCategoryId(id: number): Organ | undefined {
  return Number.isInteger(id) && id >= 1 && id <= ORGANS.length ? ORGANS[id - 1] : undefined;
}

export function isOrgan(name: string): name is Organ {
  return (ORGANS as readonly string[]).includes(name);
}

/** The COCO `categories` block Tractus reads and writes. */
export const COCO_CATEGORIES = ORGANS.map((name, i) => ({ id: i + 1, name, supercategory: 'gi_tract' }));
