/**
 * Pure review logic of the renderer: undo follows the clinician's actions across organs and slices (one
 * history per scan), and a slice is "edited" only while its masks differ from the layer they came from.
 */
import { describe, expect, it } from 'vitest';
import { encodeMask } from '../../preload/wire';
import { stateAfterChange, stateBeforeEdits } from '../../renderer/lib/edit-state';
import {
  ONLY_OTHER_RGB,
  ONLY_WORKING_RGB,
  blendDifference,
  layerDifference,
} from '../../renderer/lib/layer-diff';
import { MAX_UNDO, UndoHistory } from '../../renderer/lib/undo';

const m = (...v: number[]) => Uint8Array.from(v);

describe('undo history per scan', () => {
  it('undoes actions in the order they were made, across organs and slices', () => {
    const h = new UndoHistory();
    h.record('scan', [{ sliceId: 's1', organ: 'stomach', before: m(0), after: m(1) }]);
    h.record('scan', [{ sliceId: 's1', organ: 'large_bowel', before: m(0, 0), after: m(0, 1) }]);
    h.record('scan', [{ sliceId: 's2', organ: 'stomach', before: m(1), after: m(0) }]);
    expect(h.undo('scan')!.map((c) => [c.sliceId, c.organ])).toEqual([['s2', 'stomach']]);
    expect(h.undo('scan')!.map((c) => [c.sliceId, c.organ, [...c.before]])).toEqual([
      ['s1', 'large_bowel', [0, 0]],
    ]);
    const redo = h.redo('scan')!;
    expect([...redo[0]!.after]).toEqual([0, 1]);
    // A new action forgets what could be redone; another scan has its own history.
    h.record('scan', [{ sliceId: 's3', organ: 'small_bowel', before: m(0), after: m(1) }]);
    expect(h.canRedo('scan')).toBe(false);
    expect(h.canUndo('other')).toBe(false);
  });

  it('an action is all its masks at once, and one that changes nothing is not recorded', () => {
    const h = new UndoHistory();
    expect(h.record('scan', [{ sliceId: 's1', organ: 'stomach', before: m(1), after: m(1) }])).toBe(false);
    expect(h.canUndo('scan')).toBe(false);
    const interpolation = ['s2', 's3', 's4'].map((sliceId) => ({
      sliceId,
      organ: 'stomach' as const,
      before: m(0),
      after: m(1),
    }));
    h.record('scan', interpolation);
    expect(h.undo('scan')).toHaveLength(3);
    expect(h.canUndo('scan')).toBe(false);
  });

  it('keeps copies: changing a mask after recording does not change its history', () => {
    const h = new UndoHistory();
    const after = m(1);
    h.record('scan', [{ sliceId: 's1', organ: 'stomach', before: m(0), after }]);
    after[0] = 7;
    expect([...h.undo('scan')![0]!.after]).toEqual([1]);
  });

  it(`is bounded to ${MAX_UNDO} actions`, () => {
    const h = new UndoHistory();
    for (let i = 0; i <= MAX_UNDO; i++) {
      h.record('scan', [{ sliceId: `s${i}`, organ: 'stomach', before: m(0), after: m(1) }]);
    }
    let n = 0;
    while (h.undo('scan')) n++;
    expect(n).toBe(MAX_UNDO);
  });
});

describe('edited means different from the layer', () => {
  const base = { stomach: encodeMask({ width: 2, height: 1, data: m(1, 0) }) };
  it('masks back to the layer return the slice to its state before the edits', () => {
    expect(stateAfterChange({ ...base }, base, 'auto')).toBe('auto');
    expect(stateAfterChange({ ...base }, base, 'approved')).toBe('approved');
    const other = { stomach: encodeMask({ width: 2, height: 1, data: m(1, 1) }) };
    expect(stateAfterChange(other, base, 'auto')).toBe('edited');
    // No layer under the slice: empty masks are no edit, any pixel is one.
    expect(stateAfterChange({}, undefined, 'auto')).toBe('auto');
    expect(stateAfterChange(other, undefined, 'auto')).toBe('edited');
  });
  it('the state to return to is never "edited"', () => {
    expect(stateBeforeEdits('edited', undefined)).toBe('auto');
    expect(stateBeforeEdits('approved', undefined)).toBe('approved');
    expect(stateBeforeEdits('edited', 'approved')).toBe('approved');
  });
});

describe('difference of two layers', () => {
  it('counts pixels only in the working contour, only in the other layer, and in both', () => {
    const working = { stomach: m(1, 1, 0, 0), large_bowel: m(0, 0, 0, 1) };
    const other = { stomach: m(0, 1, 1, 0) };
    const d = layerDifference(working, other, ['stomach', 'large_bowel'], 4);
    expect(d.counts).toEqual({ onlyWorking: 2, onlyOther: 1, both: 1 });
    expect([...d.onlyWorking]).toEqual([1, 0, 0, 1]);
    expect([...d.onlyOther]).toEqual([0, 0, 1, 0]);
    // Hidden organs are left out.
    expect(layerDifference(working, other, ['stomach'], 4).counts).toEqual({
      onlyWorking: 1,
      onlyOther: 1,
      both: 1,
    });
    const rgba = new Uint8ClampedArray(16);
    blendDifference(rgba, d, 1);
    expect([...rgba.slice(0, 4)]).toEqual([...ONLY_WORKING_RGB, 0]);
    expect([...rgba.slice(8, 12)]).toEqual([...ONLY_OTHER_RGB, 0]);
  });
});
