/** Long jobs (segmentation, fine-tuning, export) as the engine reports them, plus the live training curves. */
import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';
import type { ExportFormat, ExportResult, JobSummary, ModelInfo, TrainEpoch } from '../../preload/api';
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
      jobs.set(job.id, job);
      if (before?.status === 'running' && job.status !== 'running') void finished(job);
      else if (!before && job.status !== 'running') void finished(job);
    });
    api().on('train:epoch', ({ jobId, ...e }) => {
      const list = epochs.get(jobId) ?? [];
      epochs.set(jobId, [...list, e]);
    });
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
    if (!jobs.has(jobId) || jobs.get(jobId)!.status === 'running') jobs.set(jobId, job);
    if (job.status !== 'running') await finished(job);
    return jobId;
  }

  async function segment(
    scope: 'scan' | 'patient' | 'dataset',
    id?: string,
    resume = false,
  ): Promise<string> {
    await useDatasetStore().flush();
    const { jobId } = await api().call('segment:start', { scope, ...(id ? { id } : {}), resume });
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
  const latest = (kind: JobSummary['kind']) =>
    [...jobs.values()].filter((j) => j.kind === kind).at(-1) ?? null;

  return {
    jobs,
    epochs,
    models,
    lastExport,
    running,
    latest,
    subscribe,
    segment,
    train,
    exportAs,
    cancel,
    loadModels,
    activate,
    rollback,
  };
});
