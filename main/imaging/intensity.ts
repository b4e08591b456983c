/**
 * Which typed array holds a scan's intensities: the narrowest that keeps every value exactly —
 * uint8/uint16 for unsigned data, int16 for signed data, float32 when a rescale makes fractions.
 */
import type { IntensityType, PixelArray } from '../core/types';

/** Range of values after rescale (of a file, a volume, a scan); decides the narrowest type for a scan. */
export interface ValueRange {
  min: number;
  max: number;
  integral: boolean;
  /** unsigned 8-bit stored values without rescale: may stay uint8 */
  bytes: boolean;
  /** signed storage (DICOM PixelRepresentation 1, NIfTI signed types): stays signed without negatives */
  signed: boolean;
}

/** The narrowest intensity type for a range; signed data stays int16, non-integral rescale → float32. */
export function intensityForRange(range: ValueRange): IntensityType {
  const { min, max } = range;
  if (!range.integral) return 'float32';
  if (range.bytes && min >= 0 && max <= 255) return 'uint8';
  if (!range.signed && min >= 0 && max <= 65535) return 'uint16';
  if (min >= -32768 && max <= 32767) return 'int16';
  if (min >= 0 && max <= 65535) return 'uint16';
  return 'float32';
}

export function combineRanges(ranges: ValueRange[]): ValueRange {
  return ranges.reduce((a, b) => ({
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    integral: a.integral && b.integral,
    bytes: a.bytes && b.bytes,
    signed: a.signed || b.signed,
  }));
}

/** Values into the typed array of `type` (the caller has checked the range fits). */
export function convertValues(values: ArrayLike<number> & Iterable<number>, type: IntensityType): PixelArray {
  switch (type) {
    case 'uint8':
      return Uint8Array.from(values);
    case 'uint16':
      return Uint16Array.from(values);
    case 'int16':
      return Int16Array.from(values);
    case 'float32':
      return Float32Array.from(values);
  }
}

export { measureValues } from '../core/arrays';
