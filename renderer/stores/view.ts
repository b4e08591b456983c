/** How slices are shown and edited: window/level, overlays, the active tool and organ. */
import { defineStore } from 'pinia';
import { reactive, ref } from 'vue';
import { ORGANS, type Organ } from '../../main/core/organs';
import type { WindowLevel, WindowPreset } from '../lib/window-level';

export type Tool = 'navigate' | 'brush' | 'eraser' | 'fill' | 'polygon' | 'window' | 'pan';

/** Tools whose left button changes contours: chosen explicitly, and shown as "on" while active. */
export const EDITING_TOOLS: ReadonlySet<Tool> = new Set(['brush', 'eraser', 'fill', 'polygon']);

export const useViewStore = defineStore('view', () => {
  const windowLevel = ref<WindowLevel | null>(null);
  const preset = ref<WindowPreset>('auto');
  const visible = reactive(Object.fromEntries(ORGANS.map((o) => [o, true])) as Record<Organ, boolean>);
  const opacity = ref(0.45);
  const style = ref<'fill' | 'contour'>('fill');
  // Navigation by default (left-drag = window/level, as in OHIF): a viewing habit must not edit contours.
  const tool = ref<Tool>('navigate');
  const brushRadius = ref(4);
  const activeOrgan = ref<Organ>('stomach');
  const compare = ref(false);
  /** Coronal and sagittal reformats beside the axial slice, with a linked crosshair. */
  const reformats = ref(false);
  /** In-plane point of the linked crosshair (scan column x, row y); the slice is the current one. */
  const crosshair = ref<{ x: number; y: number } | null>(null);
  /** Bumped to ask viewers to fit the image to the canvas again. */
  const fitRequest = ref(0);
  const zoomRequest = ref<{ factor: number; n: number }>({ factor: 1, n: 0 });

  function toggleOrgan(organ: Organ): void {
    visible[organ] = !visible[organ];
  }

  function selectOrgan(organ: Organ): void {
    activeOrgan.value = organ;
    visible[organ] = true;
  }

  function zoom(factor: number): void {
    zoomRequest.value = { factor, n: zoomRequest.value.n + 1 };
  }

  return {
    windowLevel,
    preset,
    visible,
    opacity,
    style,
    tool,
    brushRadius,
    activeOrgan,
    compare,
    reformats,
    crosshair,
    fitRequest,
    zoomRequest,
    toggleOrgan,
    selectOrgan,
    zoom,
  };
});
