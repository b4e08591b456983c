/** Zod schemas of the workspace files: everything read back from disk is validated before use. */
import { z } from 'zod';
import { ORGANS } from '../core/organs';

export const maskWireSchema = z.object({
  width: z.number().int().positive().max(16384),
  height: z.number().int().positive().max(16384),
  runs: z.array(z.number().int().nonnegative()),
});

export const sliceMasksWireSchema = z.partialRecord(z.enum(ORGANS), maskWireSchema);
export const sliceStateSchema = z.enum(['auto', 'edited', 'approved']);

export const historyEntrySchema = z.object({
  at: z.string(),
  action: z.enum(['edit', 'state', 'approve', 'unapprove', 'predict']),
  sliceId: z.string().optional(),
  organs: z.array(z.string()).optional(),
  state: sliceStateSchema.optional(),
  model: z.string().optional(),
});

/**
 * A scan's review in memory, and the legacy (formatVersion 1) file `scans/<scanId>.json` that earlier
 * builds wrote; files are now COCO (see ./coco-document), and version-1 files are read and migrated.
 */
export const scanDocumentSchema = z.object({
  format: z.literal('tractus-scan'),
  formatVersion: z.literal(1),
  scanId: z.string(),
  version: z.number().int().nonnegative(),
  approved: z.boolean(),
  states: z.record(z.string(), sliceStateSchema),
  /** Masks a person corrected, by slice id: these win over predictions and ground truth. */
  edits: z.record(z.string(), sliceMasksWireSchema),
  /** Latest model output by slice id. */
  predictions: z.record(z.string(), sliceMasksWireSchema),
  history: z.array(historyEntrySchema),
});

/** The `tractus` block of a version-2 scan file (a COCO dataset of the corrected slices). */
export const cocoScanBlockSchema = z.object({
  format: z.literal('tractus-scan'),
  formatVersion: z.literal(2),
  scanId: z.string(),
  version: z.number().int().nonnegative(),
  approved: z.boolean(),
  /** Slice id of each COCO image, in the order of `images`. */
  sliceIds: z.array(z.string()),
  states: z.record(z.string(), sliceStateSchema),
  predictions: z.record(z.string(), sliceMasksWireSchema),
  history: z.array(historyEntrySchema),
});

export const workspaceInfoSchema = z.object({
  format: z.literal('tractus-workspace'),
  formatVersion: z.literal(1),
  datasetRoot: z.string(),
  createdAt: z.string(),
});

export type ScanDocument = z.infer<typeof scanDocumentSchema>;
export type HistoryEntry = z.infer<typeof historyEntrySchema>;
