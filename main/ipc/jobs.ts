/**
 * Long work (segmentation batches, fine-tuning, export) runs as jobs: started by one call, reported by
 * `job:update` events, cancelled by id through an AbortSignal. Progress events are throttled so a fast
 * loop cannot flood the transport.
 */
import { randomUUID } from 'node:crypto';
import type { JobKind, JobSummary, TrainEpoch } from '../../preload/api';
import { InputError } from '../core/errors';

export interface JobControl {
  readonly signal: AbortSignal;
  progress(done: number, total: number, message?: string): void;
  setItems(items: NonNullable<JobSummary['items']>): void;
  /** A fine-tune finished an epoch: kept on the summary so a reloaded window can redraw the curves. */
  addEpoch(epoch: TrainEpoch): void;
}

export type JobRunner = (control: JobControl) => Promise<unknown>;

const THROTTLE_MS = 100;

export class JobManager {
  private readonly jobs = new Map<
    string,
    { summary: JobSummary; abort: AbortController; finished: Promise<void> }
  >();

  constructor(private readonly publish: (summary: JobSummary) => void) {}

  /** `about` is copied onto the summary (which dataset the job works on). */
  start(kind: JobKind, about: Pick<JobSummary, 'datasetRoot'>, run: JobRunner): string {
    const id = randomUUID();
    const abort = new AbortController();
    const summary: JobSummary = {
      id,
      kind,
      status: 'running',
      done: 0,
      total: 0,
      message: '',
      startedAt: new Date().toISOString(),
      ...about,
    };
    let last = 0;
    const emit = (force: boolean) => {
      const now = Date.now();
      if (!force && now - last < THROTTLE_MS) return;
      last = now;
      this.publish(structuredClone(summary));
    };
    const control: JobControl = {
      signal: abort.signal,
      progress(done, total, message) {
        summary.done = done;
        summary.total = total;
        if (message !== undefined) summary.message = message;
        emit(done >= total);
      },
      setItems(items) {
        summary.items = items.map((i) => ({ ...i }));
        emit(true);
      },
      addEpoch(epoch) {
        summary.history = [...(summary.history ?? []), structuredClone(epoch)];
        emit(true);
      },
    };
    const finished = (async () => {
      emit(true);
      try {
        summary.result = await run(control);
        summary.status = abort.signal.aborted ? 'cancelled' : 'done';
      } catch (e) {
        if (abort.signal.aborted) summary.status = 'cancelled';
        else {
          summary.status = 'failed';
          summary.error = e instanceof Error ? e.message : String(e);
        }
      }
      emit(true);
    })();
    this.jobs.set(id, { summary, abort, finished });
    return id;
  }

  get(id: string): JobSummary {
    const job = this.jobs.get(id);
    if (!job) throw new InputError(id, 'no such job');
    return structuredClone(job.summary);
  }

  list(): JobSummary[] {
    return [...this.jobs.values()].map((j) => structuredClone(j.summary));
  }

  cancel(id: string): boolean {
    const job = this.jobs.get(id);
    if (!job) throw new InputError(id, 'no such job');
    if (job.summary.status !== 'running' && job.summary.status !== 'queued') return false;
    job.abort.abort();
    return true;
  }

  /** Resolves when the job has finished, whatever the outcome (for tests and shutdown). */
  async settled(id: string): Promise<JobSummary> {
    const job = this.jobs.get(id);
    if (!job) throw new InputError(id, 'no such job');
    await job.finished;
    return this.get(id);
  }

  cancelAll(): void {
    for (const job of this.jobs.values()) job.abort.abort();
  }
}
