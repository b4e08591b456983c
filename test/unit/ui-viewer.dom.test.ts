// @vitest-environment happy-dom
/**
 * Viewer and workstation components mounted with a fake API (happy-dom has no 2D canvas, so these test
 * the interaction logic, not pixels; the Chromium e2e checks pixels): wheel stepping, right-drag
 * window/level, brush strokes, and the keyboard (1/2/3 organ toggles, arrows, undo/redo keys).
 */
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTractusI18n } from '../../renderer/i18n';
import SliceViewer from '../../renderer/components/SliceViewer.vue';
import WorkstationView from '../../renderer/views/WorkstationView.vue';
import { setApi } from '../../renderer/stores/api';
import { useDatasetStore } from '../../renderer/stores/dataset';
import { useViewStore } from '../../renderer/stores/view';
import { FakeApi } from './ui-fake-api.dom';

let fake: FakeApi;
let pinia: Pinia;
const mounted: VueWrapper[] = [];

beforeEach(async () => {
  pinia = createPinia();
  setActivePinia(pinia);
  fake = new FakeApi();
  setApi(fake);
  await useDatasetStore().openDemo();
});
afterEach(() => {
  for (const w of mounted.splice(0)) w.unmount();
});

function mountViewer(editable = true) {
  const w = mount(SliceViewer, {
    props: { scanId: 'case1_day1', index: 2, editable },
    global: { plugins: [pinia, createTractusI18n()] },
  });
  mounted.push(w);
  return w;
}

function key(k: string, init: KeyboardEventInit = {}, target: EventTarget = window): void {
  target.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true, ...init }));
}

describe('SliceViewer', () => {
  it('wheel steps one slice per notch; Ctrl+wheel zooms instead', async () => {
    const w = mountViewer();
    const canvas = w.find('canvas');
    await canvas.trigger('wheel', { deltaY: 120 });
    await canvas.trigger('wheel', { deltaY: -120 });
    await canvas.trigger('wheel', { deltaY: 120, ctrlKey: true });
    expect(w.emitted('step')).toEqual([[1], [-1]]);
  });

  it('right-drag: right widens the window, down raises the level, scaled to the slice range', async () => {
    const w = mountViewer();
    const view = useViewStore();
    const slice = useDatasetStore().cachedSlice('case1_day1', 2)!;
    view.windowLevel = { level: 300, width: 200 };
    const canvas = w.find('canvas');
    await canvas.trigger('mousedown', { button: 2, clientX: 10, clientY: 10 });
    await canvas.trigger('mousemove', { button: 2, clientX: 50, clientY: 30 });
    await canvas.trigger('mouseup', { button: 2 });
    // Sensitivity: (high − low) / 400 value units per screen pixel.
    const k = (slice.high - slice.low) / 400;
    expect(k).toBeGreaterThan(0);
    expect(view.windowLevel!.width).toBeCloseTo(200 + 40 * k, 9);
    expect(view.windowLevel!.level).toBeCloseTo(300 + 20 * k, 9);
  });

  it('a brush stroke paints the active organ, marks the slice edited and is one undo step', async () => {
    const w = mountViewer();
    const view = useViewStore();
    const dataset = useDatasetStore();
    view.tool = 'brush';
    view.brushRadius = 30; // covers the whole 8×6 slice wherever the 1-px test canvas maps the click
    view.activeOrgan = 'small_bowel';
    const canvas = w.find('canvas');
    await canvas.trigger('mousedown', { button: 0, clientX: 0, clientY: 0 });
    await canvas.trigger('mousemove', { button: 0, clientX: 1, clientY: 1 });
    await canvas.trigger('mouseup', { button: 0 });
    const id = dataset.slice!.id;
    expect(dataset.masksOf('case1_day1', id)!.small_bowel!.every((v) => v === 1)).toBe(true);
    expect(dataset.stateOf('case1_day1', id)).toBe('edited');
    expect(dataset.restoreMask('undo', 'small_bowel')).toBe(true);
    expect(dataset.masksOf('case1_day1', id)!.small_bowel!.every((v) => v === 0)).toBe(true);
    expect(dataset.canUndo('small_bowel')).toBe(false);
  });

  it('the other day keeps its own window: dragging it leaves the main window alone', async () => {
    const w = mountViewer(false);
    const view = useViewStore();
    view.windowLevel = { level: 300, width: 200 };
    const canvas = w.find('canvas');
    await canvas.trigger('mousedown', { button: 2, clientX: 10, clientY: 10 });
    await canvas.trigger('mousemove', { button: 2, clientX: 50, clientY: 10 });
    await canvas.trigger('mouseup', { button: 2 });
    expect(view.windowLevel).toEqual({ level: 300, width: 200 });
    // Nor does it show the main window as its own (its window starts from the preset on its own pixels).
    const footer = w.find('.viewer-foot').text();
    expect(footer).not.toContain('W 200 / L 300');
  });

  it('a read-only viewer (the other day) never edits', async () => {
    const w = mountViewer(false);
    const view = useViewStore();
    view.tool = 'brush';
    view.brushRadius = 30;
    await w.find('canvas').trigger('mousedown', { button: 0, clientX: 0, clientY: 0 });
    await w.find('canvas').trigger('mouseup', { button: 0 });
    expect(useDatasetStore().canUndo('stomach')).toBe(false);
  });
});

describe('WorkstationView keyboard', () => {
  function mountWorkstation() {
    const w = mount(WorkstationView, {
      global: { plugins: [pinia, createTractusI18n()] },
      attachTo: document.body,
    });
    mounted.push(w);
    return w;
  }

  it('1/2/3 toggle large bowel, small bowel, stomach; typing in a field does not', async () => {
    const w = mountWorkstation();
    const view = useViewStore();
    key('1');
    key('3');
    expect(view.visible).toEqual({ large_bowel: false, small_bowel: true, stomach: false });
    key('1');
    key('2');
    expect(view.visible).toEqual({ large_bowel: true, small_bowel: false, stomach: false });
    const input = w.find('input[type="range"]').element;
    key('3', {}, input);
    expect(view.visible.stomach).toBe(false);
  });

  it('arrows step slices; Ctrl+Z undoes, Ctrl+Shift+Z and Ctrl+Y redo the last action of any organ', async () => {
    mountWorkstation();
    const dataset = useDatasetStore();
    const view = useViewStore();
    key('ArrowDown');
    expect(dataset.sliceIndex).toBe(3);
    key('ArrowUp');
    expect(dataset.sliceIndex).toBe(2);

    view.activeOrgan = 'stomach';
    dataset.edit('stomach', (m) => {
      m[7] = 1;
      return 1;
    });
    const mask = () => dataset.masksOf('case1_day1', dataset.slice!.id)!.stomach!;
    key('z', { ctrlKey: true });
    expect(mask()[7]).toBe(0);
    key('Z', { ctrlKey: true, shiftKey: true });
    expect(mask()[7]).toBe(1);
    key('z', { ctrlKey: true });
    key('y', { ctrlKey: true });
    expect(mask()[7]).toBe(1);
    // Undo follows the clinician's actions, not the organ selected now.
    view.activeOrgan = 'large_bowel';
    key('z', { ctrlKey: true });
    expect(mask()[7]).toBe(0);
    await flushPromises();
  });

  it('brush keys: [ and ] change the size, b/e pick brush and eraser', () => {
    mountWorkstation();
    const view = useViewStore();
    view.brushRadius = 4;
    key(']');
    key(']');
    key('[');
    expect(view.brushRadius).toBe(5);
    key('e');
    expect(view.tool).toBe('eraser');
    key('b');
    expect(view.tool).toBe('brush');
  });
});

describe('SliceViewer: a slice that cannot be read', () => {
  it('shows the problem instead of "Loading…" forever', async () => {
    const problem = '/data/case1_day1/slice_0004.png: truncated PNG (a chunk runs 785 bytes past the end)';
    fake.handlers['scan:slice'] = () => {
      throw new Error(problem);
    };
    const w = mount(SliceViewer, {
      props: { scanId: 'case1_day1', index: 3, editable: true },
      global: { plugins: [pinia, createTractusI18n()] },
    });
    mounted.push(w);
    await flushPromises();
    expect(w.find('[data-testid="slice-error"]').text()).toContain('truncated PNG');
    expect(w.text()).not.toContain('Loading…');
  });
});
