/** Per-epoch training record, one JSON object per line in `<DIR>/history.jsonl` (append-only). */
import { promises as fs, existsSync } from 'node:fs';
import path from 'node:path';
import type { Organ } from '../../core/organs';
import { InputError } from '../../core/errors';

export const HISTORY_FILE = 'history.jsonl';

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  /** null when there is no validation set. */
  valLoss: number | null;
  valDice: Record<Organ, number | null> | null;
  valMeanDice: number | null;
  /** Per organ: share of organ-free validation slices predicted empty. */
  valCorrectEmpty: Record<Organ, number> | null;
  learningRate: number;
  seconds: number;
  /** True when this epoch became the kept (best) model. */
  best: boolean;
  at: string;
}

export async function appendHistory(dir: string, record: EpochRecord): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  await fs.appendFile(path.join(dir, HISTORY_FILE), JSON.stringify(record) + '\n');
}

export async function readHistory(dir: string): Promise<EpochRecord[]> {
  const file = path.join(dir, HISTORY_FILE);
  if (!existsSync(file)) return [];
  const lines = (await fs.readFile(file, 'utf8')).split('\n').filter((l) => l.trim());
  return lines.map((line, i) => {
    try {
      return JSON.parse(line) as EpochRecord;
    } catch {
      throw new InputError(`${file}:${i + 1}`, 'not a JSON history record');
    }
  });
}

/** Keep only records up to `lastEpoch` (a resumed run rewrites epochs after its checkpoint). */
export async function truncateHistory(dir: string, lastEpoch: number): Promise<void> {
  const kept = (await readHistory(dir)).filter((r) => r.epoch <= lastEpoch);
  await fs.writeFile(path.join(dir, HISTORY_FILE), kept.map((r) => JSON.stringify(r) + '\n').join(''));
}
