import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../main/core/errors';
import {
  formatKaggleCsv,
  parseSubmissionCsv,
  parseTrainCsv,
  parseWideMaskCsv,
} from '../../main/masks/kaggle-csv';

// In the layout of Kaggle's train.csv (first rows of the competition file have this shape).
const TRAIN = [
  'id,class,segmentation',
  'case123_day20_slice_0001,large_bowel,',
  'case123_day20_slice_0001,small_bowel,',
  'case123_day20_slice_0001,stomach,28094 3 28358 7',
  'case123_day20_slice_0002,stomach,',
].join('\r\n');

describe('Kaggle long CSV', () => {
  it('parses train.csv rows, CRLF tolerated, empty segmentation = absent', () => {
    expect(parseTrainCsv(TRAIN, 'train.csv')).toEqual([
      { id: 'case123_day20_slice_0001', organ: 'large_bowel', rle: '' },
      { id: 'case123_day20_slice_0001', organ: 'small_bowel', rle: '' },
      { id: 'case123_day20_slice_0001', organ: 'stomach', rle: '28094 3 28358 7' },
      { id: 'case123_day20_slice_0002', organ: 'stomach', rle: '' },
    ]);
  });

  it('accepts quoted fields and a trailing newline', () => {
    const text = 'id,class,predicted\n"case1_day0_slice_0003","stomach","1 2 5 1"\n';
    expect(parseSubmissionCsv(text, 'sub.csv')).toEqual([
      { id: 'case1_day0_slice_0003', organ: 'stomach', rle: '1 2 5 1' },
    ]);
  });

  it.each([
    ['id,class,predicted\ncase1_day0_slice_0001,stomach,', 'train.csv:1', "lacks column 'segmentation'"],
    ['id,class,segmentation\ncase1_day0_slice_0001,liver,', 'train.csv:2', "class 'liver' is not one of"],
    ['id,class,segmentation\ncase1_slice_0001,stomach,', 'train.csv:2', 'is not of the form'],
    ['id,class,segmentation\n\ncase1_day0_slice_0001,stomach,1 x', 'train.csv:3', 'other than integers'],
    ['id,class,segmentation\ncase1_day0_slice_0001,stomach,1 2 3', 'train.csv:2', 'odd number'],
    ['id,class,segmentation\ncase1_day0_slice_0001,stomach', 'train.csv:2', 'expected at least 3'],
    ['id,class,segmentation\n"case1_day0_slice_0001,stomach,', 'train.csv:2', 'never closed'],
    [
      'id,class,segmentation\ncase1_day0_slice_0001,stomach,\ncase1_day0_slice_0001,stomach,',
      'train.csv:3',
      'second time',
    ],
    ['', 'train.csv', 'empty file'],
  ])('rejects bad input naming file and line: %j', (text, where, problem) => {
    const call = () => parseTrainCsv(text, 'train.csv');
    expect(call).toThrow(InputError);
    expect(call).toThrow(`${where}: `);
    expect(call).toThrow(problem);
  });

  it('formats one row per slice and organ in ORGANS order, absent organs empty', () => {
    const text = formatKaggleCsv(
      [
        { id: 'case1_day0_slice_0002', organ: 'stomach', rle: '5 2' },
        { id: 'case1_day0_slice_0001', organ: 'small_bowel', rle: '1 1' },
        { id: 'case1_day0_slice_0002', organ: 'large_bowel', rle: '1 3' },
      ],
      'predicted',
    );
    expect(text).toBe(
      [
        'id,class,predicted',
        'case1_day0_slice_0002,large_bowel,1 3',
        'case1_day0_slice_0002,small_bowel,',
        'case1_day0_slice_0002,stomach,5 2',
        'case1_day0_slice_0001,large_bowel,',
        'case1_day0_slice_0001,small_bowel,1 1',
        'case1_day0_slice_0001,stomach,',
        '',
      ].join('\n'),
    );
    expect(parseSubmissionCsv(text, 'x')).toHaveLength(6);
  });

  it('format → parse round-trips random rows', () => {
    const row = fc.record({
      id: fc
        .tuple(fc.nat(200), fc.nat(40), fc.integer({ min: 1, max: 144 }))
        .map(([c, d, s]) => `case${c}_day${d}_slice_${String(s).padStart(4, '0')}`),
      organ: fc.constantFrom('large_bowel' as const, 'small_bowel' as const, 'stomach' as const),
      rle: fc.array(fc.integer({ min: 1, max: 99999 }), { maxLength: 8 }).map((v) =>
        v
          .slice(0, v.length - (v.length % 2))
          .map(String)
          .join(' '),
      ),
    });
    fc.assert(
      fc.property(fc.uniqueArray(row, { selector: (r) => `${r.id} ${r.organ}`, maxLength: 12 }), (rows) => {
        const parsed = parseTrainCsv(formatKaggleCsv(rows, 'segmentation'), 'x');
        for (const r of rows) expect(parsed).toContainEqual(r);
        expect(parsed.length).toBe(new Set(rows.map((r) => r.id)).size * 3);
      }),
    );
  });
});

describe('wide mask CSV (eval_subset.csv layout)', () => {
  const header = 'id,large_bowel,small_bowel,stomach,path,case,day,slice,width,height,counts';
  it('parses size and present organs only', () => {
    const text = `${header}\ncase122_day0_slice_0051,,,35851 9 36211 12,F:\\x\\slice_0051_360_310_1.50_1.50.png,122,0,0051,360,310,1\n`;
    expect(parseWideMaskCsv(text, 'eval.csv')).toEqual([
      { id: 'case122_day0_slice_0051', width: 360, height: 310, rles: { stomach: '35851 9 36211 12' } },
    ]);
  });

  it('names file and line for a bad size', () => {
    const text = `${header}\ncase1_day0_slice_0001,,,,p,1,0,1,0,266,0\n`;
    expect(() => parseWideMaskCsv(text, 'eval.csv')).toThrow(
      "eval.csv:2: width '0' is not a positive integer",
    );
  });
});

describe('CSV parsers on garbage', () => {
  it('throw only InputError', () => {
    const csvish = fc
      .array(
        fc.oneof(
          fc.constantFrom(
            ',',
            '"',
            '\n',
            '\r\n',
            'id',
            'class',
            'segmentation',
            'predicted',
            'width',
            'height',
          ),
          fc.constantFrom('stomach', 'large_bowel', 'case1_day0_slice_0001', '1 2', ' ', 'x', '360'),
          fc.string({ maxLength: 4 }),
        ),
        { maxLength: 40 },
      )
      .map((parts) => parts.join(''));
    const prefixed = fc
      .tuple(
        fc.constantFrom(
          'id,class,segmentation\n',
          'id,class,predicted\n',
          'id,large_bowel,small_bowel,stomach,width,height\n',
        ),
        csvish,
      )
      .map(([a, b]) => a + b);
    fc.assert(
      fc.property(fc.oneof(csvish, prefixed, fc.string()), (text) => {
        for (const parse of [parseTrainCsv, parseSubmissionCsv, parseWideMaskCsv]) {
          try {
            parse(text, 'g.csv');
          } catch (e) {
            expect(e).toBeInstanceOf(InputError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
