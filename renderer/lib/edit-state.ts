/**
 * Whether a slice is "edited": only when its masks differ from the layer they came from (ground truth or
 * a model run). Undoing back to that layer leaves the slice as it was before the first edit (pure).
 */
import type { SliceMasksWire, SliceState } from '../../preload/api';
import { sameSliceMasks } from '../../preload/wire';

/**
 * The review state of a slice after a change: `edited` when its masks differ from `base` (the layer's
 * masks), else the state it had before it was first edited.
 */
export function stateAfterChange(
  masks: SliceMasksWire,
  base: SliceMasksWire | undefined,
  stateBeforeEdits: SliceState,
): SliceState {
  return sameSliceMasks(masks, base) ? stateBeforeEdits : 'edited';
}

/** The state to come back to when a slice's masks return to its layer: never `edited` itself. */
export function stateBeforeEdits(current: SliceState, remembered: SliceState | undefined): SliceState {
  if (remembered !== undefined) return remembered;
  return current === 'edited' ? 'auto' : current;
}
