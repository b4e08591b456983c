/**
 * Read every slice of a dataset once, so a damaged file (a PNG cut short, a DICOM frame missing) is found
 * by `tractus info` before a long run, not halfway through it. Loaders only read headers when opening.
 */
import { isInputError } from '../core/errors';
import { allScans, type Dataset, type DatasetWarning } from '../core/types';

/** One warning per slice that cannot be read, naming its file; other errors are bugs and propagate. */
export async function unreadableSlices(dataset: Dataset): Promise<DatasetWarning[]> {
  const warnings: DatasetWarning[] = [];
  for (const scan of allScans(dataset)) {
    for (let i = 0; i < scan.slices.length; i++) {
      try {
        await scan.readSlice(i);
      } catch (e) {
        if (!isInputError(e)) throw e;
        warnings.push({ where: e.where, problem: `${e.problem}; scan ${scan.id} will fail` });
      }
    }
  }
  return warnings;
}
