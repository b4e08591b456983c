/**
 * Dataset warnings grouped by reason, so a folder with 300 unreadable files gives one line
 * ("300 files: skipped: …; e.g. a.dcm") on the terminal and in the app, not 300. Pure: shared with the
 * renderer.
 */
import type { DatasetWarning } from './types';

export interface WarningGroup {
  problem: string;
  /** Every `where` with this problem, in the order met. */
  wheres: string[];
}

/** Group by identical problem text, groups in the order their first warning was met. */
export function groupWarnings(warnings: readonly DatasetWarning[]): WarningGroup[] {
  const groups = new Map<string, WarningGroup>();
  for (const w of warnings) {
    const group = groups.get(w.problem);
    if (group) {
      if (!group.wheres.includes(w.where)) group.wheres.push(w.where);
    } else groups.set(w.problem, { problem: w.problem, wheres: [w.where] });
  }
  return [...groups.values()];
}

/** "file" for paths, "scan"/"entry" otherwise: what the count in a group line counts. */
function nounOf(where: string): string {
  if (/[\\/]/.test(where) || /\.[A-Za-z][\w.]*$/.test(where)) return 'file';
  return 'entry';
}

/** One line per group: "<where>: <problem>" alone, else "N files: <problem>; e.g. <first>". */
export function formatWarningGroup(group: WarningGroup): string {
  const [first] = group.wheres;
  if (group.wheres.length === 1) return `${first}: ${group.problem}`;
  const noun = nounOf(first!);
  const plural = noun === 'entry' ? 'entries' : `${noun}s`;
  return `${group.wheres.length} ${plural}: ${group.problem}; e.g. ${first}`;
}

export function formatWarnings(warnings: readonly DatasetWarning[]): string[] {
  return groupWarnings(warnings).map(formatWarningGroup);
}
