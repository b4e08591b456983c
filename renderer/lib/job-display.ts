/**
 * Which job a panel shows and how its progress reads. A job starts at 0/0 before it knows its size, and
 * the engine keeps finished jobs of folders opened earlier: neither may be shown as this folder's progress.
 */
import type { JobSummary } from '../../preload/api';

/** The newest job of `kind` for the dataset at `root` (jobs that do not say their dataset count as any). */
export function latestJobFor(
  jobs: Iterable<JobSummary>,
  kind: JobSummary['kind'],
  root: string | null,
): JobSummary | null {
  let latest: JobSummary | null = null;
  for (const job of jobs) {
    if (job.kind !== kind) continue;
    if (job.datasetRoot !== undefined && job.datasetRoot !== root) continue;
    latest = job;
  }
  return latest;
}

/**
 * Progress as a panel shows it: `counts` is null while the job does not yet know its total (show
 * "starting…" and an indeterminate bar, not "running 0/0").
 */
export function jobProgress(job: Pick<JobSummary, 'status' | 'done' | 'total'>): {
  counts: { done: number; total: number } | null;
  fraction: number | null;
} {
  if (job.total <= 0) return { counts: null, fraction: job.status === 'running' ? null : 1 };
  const done = Math.min(job.done, job.total);
  return { counts: { done: Math.round(done), total: job.total }, fraction: done / job.total };
}
