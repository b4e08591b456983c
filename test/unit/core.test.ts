import { describe, expect, it } from 'vitest';
import { ORGANS, categoryIdOf, organOfCategoryId } from '../../main/core/organs';
import { parseSliceId, parseSlicePath, parseUwSliceFileName, sliceId } from '../../main/core/ids';

describe('organs', () => {
  it('keeps the fixed order 1 large_bowel, 2 small_bowel, 3 stomach', () => {
    expect(ORGANS).toEqual(['large_bowel', 'small_bowel', 'stomach']);
    expect(categoryIdOf('stomach')).toBe(3);
    expect(organOfCategoryId(1)).toBe('large_bowel');
    expect(organOfCategoryId(4)).toBeUndefined();
  });
});

describe('UW-Madison ids', () => {
  it('parses ids and paths as the dataset writes them', () => {
    expect(parseSliceId('case123_day20_slice_0065')).toMatchObject({
      scanId: 'case123_day20',
      sliceNumber: 65,
    });
    expect(parseSliceId('case123_day20')).toBeUndefined();
    expect(
      parseSlicePath('train/case123/case123_day20/scans/slice_0065_266_266_1.50_1.50.png')?.sliceId,
    ).toBe('case123_day20_slice_0065');
    expect(parseUwSliceFileName('slice_0065_266_266_1.50_1.50.png')).toEqual({
      sliceNumber: 65,
      width: 266,
      height: 266,
      spacingX: 1.5,
      spacingY: 1.5,
    });
    expect(sliceId('case1_day0', 7)).toBe('case1_day0_slice_0007');
  });
});
