/**
 * Orientation letters of a displayed slice: which patient direction lies at the image's left, right, top
 * and bottom edges (R/L right/left, A/P anterior/posterior, S/I superior/inferior), the way DICOM viewers
 * label them, so a mirrored image is visible to a person. Pure: shared with the renderer.
 */

/** A direction in DICOM patient coordinates (LPS+: +x patient left, +y posterior, +z superior). */
export type LpsDirection = [x: number, y: number, z: number];

export interface OrientationLetters {
  /** Patient direction at the image's left edge, e.g. 'R'; two or three letters for an oblique plane. */
  left: string;
  right: string;
  top: string;
  bottom: string;
  /** True when the source does not say and the letters are Tractus's assumption (UW-Madison PNGs). */
  assumed: boolean;
}

/**
 * The UW-Madison / Kaggle slices (and any PNG input) are axial and shown radiologically: patient right on
 * the image's left, anterior at the top. PNG files carry no orientation, so this is an assumption.
 */
export const ASSUMED_AXIAL_RADIOLOGICAL: OrientationLetters = Object.freeze({
  left: 'R',
  right: 'L',
  top: 'A',
  bottom: 'P',
  assumed: true,
});

const POSITIVE = ['L', 'P', 'S'] as const;
const NEGATIVE = ['R', 'A', 'I'] as const;

/** Components below this share of the direction are left out (viewers' usual oblique threshold). */
const OBLIQUE_SHARE = 0.25;

/** Letters for one LPS direction, strongest component first: [1,0,0] → 'L', [-0.9,0.4,0] → 'RP'. */
export function directionLetters(direction: LpsDirection): string {
  const norm = Math.hypot(...direction);
  if (!(norm > 0)) return '';
  return [0, 1, 2]
    .map((axis) => ({ axis, value: direction[axis]! / norm }))
    .filter(({ value }) => Math.abs(value) >= OBLIQUE_SHARE)
    .sort((a, b) => Math.abs(b.value) - Math.abs(a.value))
    .map(({ axis, value }) => (value > 0 ? POSITIVE[axis] : NEGATIVE[axis]))
    .join('');
}

/**
 * Letters of a displayed image from the patient directions of its increasing column (moving right on
 * screen) and increasing row (moving down) — DICOM ImageOrientationPatient's two cosines, in that order.
 */
export function orientationLetters(
  alongColumns: LpsDirection,
  alongRows: LpsDirection,
  assumed = false,
): OrientationLetters {
  const negate = (d: LpsDirection): LpsDirection => [-d[0], -d[1], -d[2]];
  return {
    left: directionLetters(negate(alongColumns)),
    right: directionLetters(alongColumns),
    top: directionLetters(negate(alongRows)),
    bottom: directionLetters(alongRows),
    assumed,
  };
}
