/**
 * Undo/redo per organ and slice: each entry is the mask before an edit. Bounded so long sessions stay small.
 * Keyed by `${sliceId}/${organ}`: Ctrl+Z undoes the last edit of the active organ on the current slice.
 */
export const MAX_UNDO = 100;

interface Stacks {
  undo: Uint8Array[];
  redo: Uint8Array[];
}

export class UndoHistory {
  private readonly stacks = new Map<string, Stacks>();

  private of(key: string): Stacks {
    let s = this.stacks.get(key);
    if (!s) {
      s = { undo: [], redo: [] };
      this.stacks.set(key, s);
    }
    return s;
  }

  /** Record the state before an edit; a new edit forgets what could be redone. */
  push(key: string, before: Uint8Array): void {
    const s = this.of(key);
    s.undo.push(before.slice());
    if (s.undo.length > MAX_UNDO) s.undo.shift();
    s.redo = [];
  }

  /** The state to restore, given the current one (kept for redo); undefined when there is nothing to undo. */
  undo(key: string, current: Uint8Array): Uint8Array | undefined {
    const s = this.of(key);
    const previous = s.undo.pop();
    if (!previous) return undefined;
    s.redo.push(current.slice());
    return previous;
  }

  redo(key: string, current: Uint8Array): Uint8Array | undefined {
    const s = this.of(key);
    const next = s.redo.pop();
    if (!next) return undefined;
    s.undo.push(current.slice());
    return next;
  }

  canUndo(key: string): boolean {
    return (this.stacks.get(key)?.undo.length ?? 0) > 0;
  }

  canRedo(key: string): boolean {
    return (this.stacks.get(key)?.redo.length ?? 0) > 0;
  }

  clear(): void {
    this.stacks.clear();
  }
}
