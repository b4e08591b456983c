import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseValSpec, splitPatients } from '../../main/model/train/split';
import { labelledSlices } from '../../main/model/train/dataset';
import { InputError } from '../../main/core/errors';
import { toyDataset } from './train-toy-data';

describe('patient-wise validation split', () => {
  it('parses patient lists and fractions; rejects nonsense with an InputError', () => {
    expect(parseValSpec('0.2')).toEqual({ kind: 'fraction', fraction: 0.2 });
    expect(parseValSpec('case1, case7')).toEqual({ kind: 'patients', ids: ['case1', 'case7'] });
    expect(() => parseValSpec('1.5')).toThrow(InputError);
    expect(() => parseValSpec(' , ')).toThrow(InputError);
  });

  it('explicit ids go to validation; unknown ids and "all patients" are refused', () => {
    const ids = ['case3', 'case1', 'case2'];
    expect(splitPatients(ids, { kind: 'patients', ids: ['case2'] }, 1)).toEqual({
      train: ['case1', 'case3'],
      val: ['case2'],
    });
    expect(() => splitPatients(ids, { kind: 'patients', ids: ['case9'] }, 1)).toThrow(/case9/);
    expect(() => splitPatients(ids, { kind: 'patients', ids }, 1)).toThrow(InputError);
  });

  it('never puts a patient on both sides, keeps every patient, and is seeded', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 30 }),
        fc.double({ min: 0, max: 0.99, noNaN: true }),
        fc.integer(),
        (nums, fraction, seed) => {
          const ids = nums.map((n) => `case${n}`);
          const s = splitPatients(ids, { kind: 'fraction', fraction }, seed);
          const both = s.train.filter((id) => s.val.includes(id));
          expect(both).toEqual([]);
          expect([...s.train, ...s.val].sort()).toEqual([...ids].sort());
          expect(s.train.length).toBeGreaterThan(0);
          if (fraction > 0 && ids.length >= 2) expect(s.val.length).toBeGreaterThan(0);
          expect(splitPatients(ids, { kind: 'fraction', fraction }, seed)).toEqual(s);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('splitting slices by the patient split leaves no patient in both slice sets', () => {
    const slices = labelledSlices(toyDataset(5, 3, 8));
    const split = splitPatients(
      slices.map((s) => s.patientId),
      { kind: 'fraction', fraction: 0.4 },
      3,
    );
    const trainPatients = new Set(
      slices.filter((s) => split.train.includes(s.patientId)).map((s) => s.patientId),
    );
    const valPatients = new Set(
      slices.filter((s) => split.val.includes(s.patientId)).map((s) => s.patientId),
    );
    expect(valPatients.size).toBe(2);
    expect([...trainPatients].filter((p) => valPatients.has(p))).toEqual([]);
  });
});
