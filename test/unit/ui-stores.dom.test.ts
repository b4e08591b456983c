// @vitest-environment happy-dom
/**
 * The renderer's Pinia stores against a fake API: opening and slice navigation, two days linked by
 * millimetre position, editing with autosave and undo/redo, organ visibility, and jobs (including the
 * jobs and training curves a reloaded window gets back from `jobs:list`).
 */
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { JobSummary, TrainEpoch } from '../../preload/api';
import { decodeMask } from '../../preload/wire';
import { linkedSliceIndex } from '../../renderer/lib/linked-slices';
import { setApi } from '../../renderer/stores/api';
import { AUTOSAVE_DELAY_MS, useDatasetStore } from '../../renderer/stores/dataset';
import { useJobsStore } from '../../renderer/stores/jobs';
import { useViewStore } from '../../renderer/stores/view';
import { FakeApi, H, W, settle, twoDaySummary } from './ui-fake-api.dom';

let fake: FakeApi;
beforeEach(() => {
  setActivePinia(createPinia());
  fake = new FakeApi();
  setApi(fake);
});
afterEach(() => {
  vi.useRealTimers();
});

const epoch = (n: number): TrainEpoch => ({
  epoch: n,
  epochs: 5,
  loss: 1 / n,
  valLoss: null,
  valDice: null,
  valMeanDice: null,
  learningRate: 1e-4,
  best: n === 2,
  seconds: 1,
});

describe('dataset store', () => {
  it('opens the demo on the middle slice of the first scan, with the other day to compare', async () => {
    const dataset = useDatasetStore();
    await dataset.openDemo();
    expect(dataset.scanId).toBe('case1_day1');
    expect(dataset.sliceIndex).toBe(2); // floor(5 / 2)
    expect(dataset.compareScanId).toBe('case1_day2');
    expect(fake.callsOf('masks:get').map((a) => a.scanId)).toEqual(['case1_day1', 'case1_day2']);
    expect(dataset.cachedSlice('case1_day1', 2)!.image.data[1]).toBe(210); // 100·2 + 1·10
  });

  it('steps and clamps the slice index', async () => {
    const dataset = useDatasetStore();
    await dataset.openDemo();
    dataset.step(1);
    expect(dataset.sliceIndex).toBe(3);
    dataset.step(10);
    expect(dataset.sliceIndex).toBe(4);
    dataset.setSlice(-3);
    expect(dataset.sliceIndex).toBe(0);
  });

  it('links the other day by millimetre position, not by relative index', async () => {
    const dataset = useDatasetStore();
    await dataset.openDemo();
    dataset.setSlice(4); // day1 slice 5 × 3 mm = 15 mm
    // day2 slices are 2.5 mm apart: 15 mm is its 6th slice (index 5); the relative index would be 6.
    expect(dataset.linkedIndex(dataset.compareScan!)).toBe(5);
    dataset.setSlice(0); // 3 mm: nearest is 2.5 mm (index 0), not 5 mm
    expect(dataset.linkedIndex(dataset.compareScan!)).toBe(0);
  });

  it('falls back to the relative position when a scan has no positions', () => {
    const s = twoDaySummary();
    const [day1, day2] = s.patients[0]!.days.map((d) => d.scans[0]!);
    day2!.slices.forEach((x) => (x.positionMm = null));
    expect(linkedSliceIndex(day1!, 2, day2!)).toBe(3); // 2/4 of the way through 7 slices
    expect(linkedSliceIndex(day1!, 4, day2!)).toBe(6);
  });

  it('autosaves an edit after the delay and undoes/redoes it', async () => {
    vi.useFakeTimers();
    const dataset = useDatasetStore();
    await dataset.openDemo();
    const changed = dataset.edit('stomach', (m) => {
      m[5] = 1;
      return 1;
    });
    expect(changed).toBe(1);
    const sliceId = dataset.slice!.id;
    expect(dataset.stateOf('case1_day1', sliceId)).toBe('edited');
    expect(dataset.sourceOf('case1_day1', sliceId)).toBe('workspace');
    expect(dataset.saveStatus).toBe('pending');
    expect(fake.callsOf('masks:save')).toHaveLength(0);

    await vi.advanceTimersByTimeAsync(AUTOSAVE_DELAY_MS + 10);
    await settle();
    const saves = fake.callsOf('masks:save');
    expect(saves).toHaveLength(1);
    expect(saves[0]).toMatchObject({ scanId: 'case1_day1', sliceId, state: 'edited' });
    // Pixel 5 of 48: runs of 0s then 1s: 5 zeros, 1 one, 42 zeros.
    expect(saves[0]!.masks.stomach).toEqual({ width: W, height: H, runs: [5, 1, 42] });
    expect(dataset.saveStatus).toBe('saved');

    // One history per scan: undo is there whichever organ is selected.
    expect(dataset.canUndo('stomach')).toBe(true);
    expect(dataset.canUndo('small_bowel')).toBe(true);
    expect(dataset.restoreMask('undo', 'stomach')).toBe(true);
    expect(dataset.masksOf('case1_day1', sliceId)!.stomach![5]).toBe(0);
    expect(dataset.canRedo('stomach')).toBe(true);
    expect(dataset.restoreMask('redo', 'stomach')).toBe(true);
    expect(dataset.masksOf('case1_day1', sliceId)!.stomach![5]).toBe(1);
    await dataset.flush();
    const last = fake.callsOf('masks:save').at(-1)!;
    expect(decodeMask(last.masks.stomach!).data[5]).toBe(1);
  });

  it('an edit that changes nothing is not saved and cannot be undone', async () => {
    const dataset = useDatasetStore();
    await dataset.openDemo();
    expect(dataset.edit('stomach', () => 0)).toBe(0);
    expect(dataset.canUndo('stomach')).toBe(false);
    expect(dataset.saveStatus).toBe('saved');
  });
});

describe('view store', () => {
  it('toggles organs and makes the selected organ visible', () => {
    const view = useViewStore();
    view.toggleOrgan('small_bowel');
    expect(view.visible.small_bowel).toBe(false);
    view.selectOrgan('small_bowel');
    expect(view.activeOrgan).toBe('small_bowel');
    expect(view.visible.small_bowel).toBe(true);
  });
});

describe('jobs store', () => {
  const trainJob = (status: JobSummary['status'], history: TrainEpoch[]): JobSummary => ({
    id: 'train-1',
    kind: 'train',
    status,
    done: history.length,
    total: 5,
    message: '',
    history,
  });

  it('after a reload, shows earlier and running jobs with their training curves', async () => {
    fake.handlers['jobs:list'] = () => [
      trainJob('running', [epoch(1), epoch(2)]),
      {
        id: 'export-1',
        kind: 'export',
        status: 'done',
        done: 2,
        total: 2,
        message: 'done',
        result: { format: 'coco', files: ['/ws/a.json'] },
      },
    ];
    const jobs = useJobsStore();
    jobs.subscribe();
    await jobs.loadJobs();
    expect(jobs.latest('train')!.status).toBe('running');
    expect(jobs.epochs.get('train-1')!.map((e) => e.epoch)).toEqual([1, 2]);
    expect(jobs.lastExport).toEqual({ format: 'coco', files: ['/ws/a.json'] });
    expect(jobs.running.map((j) => j.id)).toEqual(['train-1']);

    // Live events continue the same curve; an epoch seen twice is kept once.
    fake.emit('train:epoch', { jobId: 'train-1', ...epoch(2) });
    fake.emit('train:epoch', { jobId: 'train-1', ...epoch(3) });
    expect(jobs.epochs.get('train-1')!.map((e) => e.epoch)).toEqual([1, 2, 3]);

    // The end of a fine-tune refreshes the model list (the new model appears).
    fake.handlers['models:list'] = () => [{ id: '20260101-000000-x', createdAt: '', active: false }];
    fake.emit('job:update', trainJob('done', [epoch(1), epoch(2), epoch(3)]));
    await settle();
    expect(jobs.models.map((m) => m.id)).toEqual(['20260101-000000-x']);
    expect(jobs.running).toHaveLength(0);
  });

  it('starts a fine-tune after flushing pending edits, and activates / rolls back models', async () => {
    const dataset = useDatasetStore();
    await dataset.openDemo();
    fake.handlers['train:start'] = () => ({ jobId: 'train-2' });
    fake.handlers['job:get'] = () => trainJob('running', []);
    fake.handlers['models:activate'] = ({ id }) => [{ id, createdAt: '', active: true }];
    fake.handlers['models:rollback'] = () => [{ id: 'm', createdAt: '', active: false }];
    dataset.edit('stomach', (m) => {
      m[0] = 1;
      return 1;
    });
    const jobs = useJobsStore();
    await jobs.train(3, ['edited', 'approved']);
    const order = fake.calls.map((c) => c.channel).filter((c) => c === 'masks:save' || c === 'train:start');
    expect(order).toEqual(['masks:save', 'train:start']);
    expect(fake.callsOf('train:start')[0]).toEqual({ epochs: 3, include: ['edited', 'approved'] });
    await jobs.activate('m');
    expect(jobs.models[0]!.active).toBe(true);
    await jobs.rollback();
    expect(jobs.models[0]!.active).toBe(false);
  });
});
