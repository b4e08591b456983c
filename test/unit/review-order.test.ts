import { describe, expect, it } from 'vitest';
import { REVIEW_FIRST_COUNT, reviewFirst } from '../../main/core/review-order';

describe('reviewFirst', () => {
  it('orders by uncertainty, most uncertain first, ties in slice order', () => {
    const slices = [
      { id: 'a', uncertainty: 0.1, hasOrgan: true },
      { id: 'b', uncertainty: 0.4, hasOrgan: false },
      { id: 'c', uncertainty: 0.1, hasOrgan: false },
      { id: 'd', uncertainty: 0.7, hasOrgan: true },
    ];
    expect(reviewFirst(slices)).toEqual(['d', 'b', 'a', 'c']);
    expect(reviewFirst(slices, 2)).toEqual(['d', 'b']);
  });

  it('leaves out empty slices with crisp maps but keeps crisp slices with an organ', () => {
    const slices = [
      { id: 'empty', uncertainty: 0, hasOrgan: false },
      { id: 'organ', uncertainty: 0, hasOrgan: true },
    ];
    expect(reviewFirst(slices)).toEqual(['organ']);
  });

  it(`keeps at most ${REVIEW_FIRST_COUNT} by default`, () => {
    const slices = Array.from({ length: 25 }, (_, k) => ({
      id: `s${k}`,
      uncertainty: k / 100,
      hasOrgan: false,
    }));
    const out = reviewFirst(slices);
    expect(out).toHaveLength(REVIEW_FIRST_COUNT);
    expect(out[0]).toBe('s24');
    expect(out[9]).toBe('s15');
  });
});
