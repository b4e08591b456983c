/**
 * Undo/redo of the clinician's actions on a scan in the order they were made, whatever the organ or slice:
 * one history per scan (the scope), each entry one action (a brush stroke, a fill, a polygon, an
 * interpolation across slices) holding every mask it changed, before and after. Bounded so long sessions
 * stay small. Pure: the store applies the masks an undo or redo returns.
 */
import type { Organ } from '../../main/core/organs';

export const MAX_UNDO = 100;

export interface MaskChange {
  sliceId: string;
  organ: Organ;
  before: Uint8Array;
  after: Uint8Array;
}

export type UndoAction = readonly MaskChange[];

interface Stacks {
  undo: UndoAction[];
  redo: UndoAction[];
}

function changesSomething(c: MaskChange): boolean {
  if (c.before.length !== c.after.length) return true;
  for (let i = 0; i < c.before.length; i++) if (c.before[i] !== c.after[i]) return true;
  return false;
}

export class UndoHistory {
  private readonly stacks = new Map<string, Stacks>();

  private of(scope: string): Stacks {
    let s = this.stacks.get(scope);
    if (!s) {
      s = { undo: [], redo: [] };
      this.stacks.set(scope, s);
    }
    return s;
  }

  /**
   * Record one action; masks it did not change are left out, and an action that changed nothing is not
   * recorded (returns false). A new action forgets what could be redone.
   */
  record(scope: string, changes: readonly MaskChange[]): boolean {
    const kept = changes
      .filter(changesSomething)
      .map((c) => ({ ...c, before: c.before.slice(), after: c.after.slice() }));
    if (kept.length === 0) return false;
    const s = this.of(scope);
    s.undo.push(kept);
    if (s.undo.length > MAX_UNDO) s.undo.shift();
    s.redo = [];
    return true;
  }

  /** The last action (apply each change's `before`), moved to redo; undefined when there is none. */
  undo(scope: string): UndoAction | undefined {
    const s = this.of(scope);
    const action = s.undo.pop();
    if (action) s.redo.push(action);
    return action;
  }

  /** The last undone action (apply each change's `after`), moved back to undo. */
  redo(scope: string): UndoAction | undefined {
    const s = this.of(scope);
    const action = s.redo.pop();
    if (action) s.undo.push(action);
    return action;
  }

  canUndo(scope: string): boolean {
    return (this.stacks.get(scope)?.undo.length ?? 0) > 0;
  }

  canRedo(scope: string): boolean {
    return (this.stacks.get(scope)?.redo.length ?? 0) > 0;
  }

  clear(): void {
    this.stacks.clear();
  }
}
