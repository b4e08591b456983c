/**
 * Orientation letters on a viewer's edges, for the axial slice and its coronal and sagittal reformats, and
 * where the superior end of the slice stack is (reformats are shown head up, as every viewer does).
 * Letters are patient directions: R/L right/left, A/P anterior/posterior, S/I superior/inferior.
 */
export interface EdgeLetters {
  left: string;
  right: string;
  top: string;
  bottom: string;
}

/** Axial slices shown radiologically (patient right on the image's left, anterior at the top). */
export const RADIOLOGICAL_AXIAL: EdgeLetters = Object.freeze({
  left: 'R',
  right: 'L',
  top: 'A',
  bottom: 'P',
});

type Vec = [number, number, number];
/** DICOM patient axes (LPS+). */
const AXES: Record<string, Vec> = {
  L: [1, 0, 0],
  R: [-1, 0, 0],
  P: [0, 1, 0],
  A: [0, -1, 0],
  S: [0, 0, 1],
  I: [0, 0, -1],
};
const OPPOSITE: Record<string, string> = { L: 'R', R: 'L', P: 'A', A: 'P', S: 'I', I: 'S' };

function vec(letters: string): Vec | null {
  return AXES[letters.charAt(0)] ?? null;
}

function letterOf(v: Vec): string {
  return Object.entries(AXES).find(([, a]) => a[0] === v[0] && a[1] === v[1] && a[2] === v[2])?.[0] ?? '';
}

export function opposite(letters: string): string {
  return [...letters].map((c) => OPPOSITE[c] ?? c).join('');
}

/**
 * The patient direction in which the slice index grows, or null when unknown. DICOM series and NIfTI
 * volumes are stacked along the normal of their rows × columns (right × down); the UW-Madison slices are
 * numbered head to feet (stomach on low numbers, rectum on high ones, in all 35,072 labelled slices);
 * a folder of PNGs or a COCO file does not say.
 */
export function sliceDirection(axial: EdgeLetters, source: string | undefined): string | null {
  if (source === 'uwmgi') return 'I';
  if (source !== 'dicom' && source !== 'nifti') return null;
  const right = vec(axial.right);
  const down = vec(axial.bottom);
  if (!right || !down) return null;
  const n: Vec = [
    right[1] * down[2] - right[2] * down[1],
    right[2] * down[0] - right[0] * down[2],
    right[0] * down[1] - right[1] * down[0],
  ];
  return letterOf(n) || null;
}

export type Plane = 'axial' | 'coronal' | 'sagittal';

/**
 * Edge letters of a reformat. Coronal: columns as in the axial slice, the slice stack vertical; sagittal:
 * the axial rows horizontal (anterior on the left for a radiological axial), the stack vertical. The
 * stack is drawn head up when its direction is known (`superiorTop`), else in index order (first on top).
 */
export function reformatLetters(
  plane: Exclude<Plane, 'axial'>,
  axial: EdgeLetters,
  stack: string | null,
): EdgeLetters {
  const [left, right] = plane === 'coronal' ? [axial.left, axial.right] : [axial.top, axial.bottom];
  if (stack === null) return { left, right, top: '', bottom: '' };
  const top = stackDrawnReversed(stack) ? stack : opposite(stack);
  return { left, right, top, bottom: opposite(top) };
}

/** True when the last slice is drawn on top: the stack grows toward the head (or, oblique, mostly so). */
export function stackDrawnReversed(stack: string | null): boolean {
  return stack !== null && stack.charAt(0) === 'S';
}

/**
 * The axial letters of a scan: those its source gives, else the radiological convention every loader
 * displays, marked as assumed.
 */
export function axialLetters(scan: {
  orientation?: EdgeLetters & { assumed?: boolean };
}): EdgeLetters & { assumed: boolean } {
  const o = scan.orientation;
  if (!o) return { ...RADIOLOGICAL_AXIAL, assumed: true };
  return { left: o.left, right: o.right, top: o.top, bottom: o.bottom, assumed: o.assumed ?? false };
}
