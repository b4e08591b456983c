/** Long jobs (segmentation, fine-tuning, export) as the engine reports them, plus the live training curves. */
import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';
import type { ExportFormat, ExportResult, JobSummary, ModelInfo, TrainEpoch } from '../../preload/api';
import { latestJobFor } from '../lib/job-display';
import { api } from './api';
import { useDatasetStore } from './dataset';

export const useJobsStore = defineStore('jobs', () => {
  const jobs = reactive(new Map<string, JobSummary>());
  const epochs = reactive(new Map<string, TrainEpoch[]>());
  const models = ref<ModelInfo[]>([]);
  const lastExport = ref<ExportResult | null>(null);
  let subscribed = false;

  function subscribe(): void {
    if (subscribed) return;
    subscribed = true;
    api().on('job:update', (job) => {
      const before = jobs.get(job.id);
      remember(job);
      if (before?.status === 'running' && job.status !== 'running') void finished(job);
      else if (!before && job.status !== 'running') void finished(job);
    });
    api().on('train:epoch', ({ jobId, ...e }) => addEpoch(jobId, e));
  }

  /** Epochs arrive as events and again inside job summaries; each epoch is kept once, in order. */
  function addEpoch(jobId: string, e: TrainEpoch): void {
    const list = epochs.get(jobId) ?? [];
    if (list.some((x) => x.epoch === e.epoch)) return;
    epochs.set(
      jobId,
      [...list, e].sort((a, b) => a.epoch - b.epoch),
    );
  }

  function remember(job: JobSummary): void {
    jobs.set(job.id, job);
    for (const e of job.history ?? []) addEpoch(job.id, e);
  }

  /**
   * Jobs the engine already knows (earlier or still running), e.g. after the window was reloaded: they keep
   * running in the engine, so the panels show them again instead of starting from nothing.
   */
  async function loadJobs(): Promise<void> {
    const list = await api().call('jobs:list', {});
    for (const job of list) {
      const known = jobs.get(job.id);
      // An event may have brought a newer state while the list was on its way.
      if (!known || known.status === 'running') remember(job);
    }
    if (list.some((j) => j.kind === 'train')) await loadModels();
    const exported = list.filter((j) => j.kind === 'export' && j.status === 'done').at(-1);
    if (exported && !lastExport.value) lastExport.value = exported.result as ExportResult;
  }

  async function finished(job: JobSummary): Promise<void> {
    const dataset = useDatasetStore();
    if (job.kind === 'segment' && dataset.scanId) {
      await dataset.loadMasks(dataset.scanId);
      await dataset.refreshSummary();
      await dataset.refreshVolumes();
    }
    if (job.kind === 'export' && job.status === 'done') lastExport.value = job.result as ExportResult;
    if (job.kind === 'train') await loadModels();
  }

  async function track(jobId: string): Promise<string> {
    const job = await api().call('job:get', { jobId });
    if (!jobs.has(jobId) || jobs.get(jobId)!.status === 'running') remember(job);
    if (job.status !== 'running') await finished(job);
    return jobId;
  }

  async function segment(
    scope: 'scan' | 'patient' | 'dataset',
    id?: string,
    resume = false,
    /** Replace human contours as the working contour (the user was asked; see stores/review). */
    replace = false,
  ): Promise<string> {
    await useDatasetStore().flush();
    const { jobId } = await api().call('segment:start', {
      scope,
      ...(id ? { id } : {}),
      resume,
      ...(replace ? { replace } : {}),
    });
    return track(jobId);
  }

  async function train(epochCount: number, include: Array<'edited' | 'approved'>): Promise<string> {
    await useDatasetStore().flush();
    const { jobId } = await api().call('train:start', { epochs: epochCount, include });
    return track(jobId);
  }

  async function exportAs(format: ExportFormat): Promise<string> {
    await useDatasetStore().flush();
    lastExport.value = null;
    const { jobId } = await api().call('export:start', { format });
    return track(jobId);
  }

  async function cancel(jobId: string): Promise<void> {
    await api().call('job:cancel', { jobId });
  }

  async function loadModels(): Promise<void> {
    models.value = await api().call('models:list', {});
  }

  async function activate(id: string): Promise<void> {
    models.value = await api().call('models:activate', { id });
  }

  async function rollback(): Promise<void> {
    models.value = await api().call('models:rollback', {});
  }

  const running = computed(() => [...jobs.values()].filter((j) => j.status === 'running'));
  /** This folder's newest job of a kind: a job of a folder opened earlier is not this one's progress. */
  const latest = (kind: JobSummary['kind']) =>
    latestJobFor(jobs.values(), kind, useDatasetStore().summary?.root ?? null);

  return {
    jobs,
    epochs,
    models,
    lastExport,
    running,
    latest,
    subscribe,
    loadJobs,
    segment,
    train,
    exportAs,
    cancel,
    loadModels,
    activate,
    rollback,
  };
});
