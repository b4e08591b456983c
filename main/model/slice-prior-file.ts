/** Reading a position prior (slice-prior.ts) from its JSON file, with errors that name the file. */
import { InputError } from '../core/errors';
import { readJsonOrExplain } from '../io/files';
import { slicePriorSchema, type SlicePrior } from './slice-prior';

export async function readSlicePrior(file: string): Promise<SlicePrior> {
  const parsed = slicePriorSchema.safeParse(await readJsonOrExplain(file));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(file, `is not a slice prior: ${issue.path.join('.') || 'root'} ${issue.message}`);
  }
  return parsed.data;
}
