// @vitest-environment happy-dom
/**
 * The review workflow in the renderer's stores against a fake API: undo across organs and back to the
 * layer (then the slice is not "edited"), the question before a model run replaces human contours, and
 * the question before approving a scan with slices never shown.
 */
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { encodeMask } from '../../preload/wire';
import { setApi } from '../../renderer/stores/api';
import { useDatasetStore } from '../../renderer/stores/dataset';
import { useReviewStore } from '../../renderer/stores/review';
import { FakeApi, H, W, settle } from './ui-fake-api.dom';

let fake: FakeApi;
const SCAN = 'case1_day1';
const sliceId = (n: number) => `${SCAN}_slice_${String(n).padStart(4, '0')}`;

beforeEach(() => {
  setActivePinia(createPinia());
  fake = new FakeApi();
  setApi(fake);
  // Ground truth (stomach, pixel 3) on the middle slice (index 2 of 5), the one the viewer opens on.
  const base = fake.handlers['masks:get']!;
  fake.handlers['masks:get'] = (args) => {
    const res = base(args) as Awaited<ReturnType<typeof base>>;
    if (args.scanId !== SCAN) return res;
    const data = new Uint8Array(W * H);
    data[3] = 1;
    res.masks[sliceId(3)] = { stomach: encodeMask({ width: W, height: H, data }) };
    res.sources[sliceId(3)] = 'ground-truth';
    return res;
  };
  fake.handlers['masks:save'] = ({ state }) => ({ version: 1, state: state ?? 'edited' });
});

describe('undo follows the clinician, and undone edits are no edits', () => {
  it('paint stomach, select large bowel, undo: the stomach stroke goes, the slice is not edited', async () => {
    const dataset = useDatasetStore();
    await dataset.openDemo();
    expect(dataset.slice!.id).toBe(sliceId(3));
    dataset.edit('stomach', (m) => {
      m[5] = 1;
      return 1;
    });
    dataset.edit('large_bowel', (m) => {
      m[0] = 1;
      return 1;
    });
    expect(dataset.stateOf(SCAN, sliceId(3))).toBe('edited');
    // Two undos take back both actions, newest first, whichever organ is selected.
    expect(dataset.restoreMask('undo')).toBe(true);
    expect(dataset.masksOf(SCAN, sliceId(3))!.large_bowel![0]).toBe(0);
    expect(dataset.stateOf(SCAN, sliceId(3))).toBe('edited');
    expect(dataset.restoreMask('undo', 'large_bowel')).toBe(true);
    expect(dataset.masksOf(SCAN, sliceId(3))!.stomach![5]).toBe(0);
    // Back to the ground truth exactly: not edited, its source is the ground truth again.
    expect(dataset.stateOf(SCAN, sliceId(3))).toBe('auto');
    expect(dataset.sourceOf(SCAN, sliceId(3))).toBe('ground-truth');
    expect(dataset.canUndo()).toBe(false);
    expect(dataset.restoreMask('redo')).toBe(true);
    expect(dataset.stateOf(SCAN, sliceId(3))).toBe('edited');
  });

  it('undo of an edit on another slice brings that slice back on screen', async () => {
    const dataset = useDatasetStore();
    await dataset.openDemo();
    dataset.edit('stomach', (m) => {
      m[1] = 1;
      return 1;
    });
    dataset.setSlice(0);
    expect(dataset.restoreMask('undo')).toBe(true);
    expect(dataset.sliceIndex).toBe(2);
    expect(dataset.masksOf(SCAN, sliceId(3))!.stomach![1]).toBe(0);
  });
});

describe('asking before replacing human contours', () => {
  it('segments at once when nothing human would be replaced', async () => {
    fake.handlers['segment:check'] = () => [];
    fake.handlers['segment:start'] = () => ({ jobId: 'j1' });
    fake.handlers['job:get'] = () => ({
      id: 'j1',
      kind: 'segment',
      status: 'running',
      done: 0,
      total: 5,
      message: '',
    });
    const dataset = useDatasetStore();
    await dataset.openDemo();
    const review = useReviewStore();
    await review.requestSegment('scan', SCAN);
    expect(review.pendingSegment).toBeNull();
    expect(fake.callsOf('segment:start')).toEqual([{ scope: 'scan', id: SCAN, resume: false }]);
  });

  it('names what would be replaced, and replaces only when the user says so', async () => {
    const contours = [{ scanId: SCAN, truth: 1, edited: 2, approved: 0 }];
    fake.handlers['segment:check'] = () => contours;
    fake.handlers['segment:start'] = () => ({ jobId: 'j1' });
    fake.handlers['job:get'] = () => ({
      id: 'j1',
      kind: 'segment',
      status: 'running',
      done: 0,
      total: 5,
      message: '',
    });
    const dataset = useDatasetStore();
    await dataset.openDemo();
    const review = useReviewStore();
    await review.requestSegment('scan', SCAN);
    expect(review.pendingSegment).toEqual({ scope: 'scan', id: SCAN, contours });
    expect(fake.callsOf('segment:start')).toHaveLength(0);
    await review.confirmSegment(null);
    expect(fake.callsOf('segment:start')).toHaveLength(0);
    await review.requestSegment('scan', SCAN);
    await review.confirmSegment('layer');
    await review.requestSegment('scan', SCAN);
    await review.confirmSegment('replace');
    expect(fake.callsOf('segment:start')).toEqual([
      { scope: 'scan', id: SCAN, resume: false },
      { scope: 'scan', id: SCAN, resume: false, replace: true },
    ]);
  });
});

describe('approval covers the slices shown', () => {
  it('asks with the number never shown, then sends the slices shown', async () => {
    fake.handlers['scan:approve'] = ({ viewed, includeUnviewed }) => ({
      approved: includeUnviewed === true,
      approvedSlices: includeUnviewed ? 5 : (viewed?.length ?? 0),
      unviewed: includeUnviewed ? 0 : 5 - (viewed?.length ?? 0),
    });
    const dataset = useDatasetStore();
    const review = useReviewStore();
    await dataset.openDemo();
    await dataset.loadSlice(SCAN, 2);
    await settle();
    dataset.setSlice(3);
    await dataset.loadSlice(SCAN, 3);
    await settle();
    await review.requestApproval();
    expect(review.pendingApproval).toEqual({ scanId: SCAN, viewed: 2, unviewed: 3 });
    expect(fake.callsOf('scan:approve')).toHaveLength(0);
    await review.confirmApproval('viewed');
    expect(fake.callsOf('scan:approve')).toEqual([
      { scanId: SCAN, approved: true, viewed: [sliceId(3), sliceId(4)] },
    ]);
    expect(review.lastApproval).toEqual({ approved: false, approvedSlices: 2, unviewed: 3 });
    await review.requestApproval();
    await review.confirmApproval('all');
    expect(fake.callsOf('scan:approve').at(-1)).toMatchObject({ includeUnviewed: true });
  });
});
