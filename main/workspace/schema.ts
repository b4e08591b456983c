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
  action: z.enum(['edit', 'state', 'approve', 'unapprove', 'predict', 'revert', 'use-layer']),
  sliceId: z.string().optional(),
  organs: z.array(z.string()).optional(),
  state: sliceStateSchema.optional(),
  model: z.string().optional(),
});

/**
 * The legacy (formatVersion 1) file `scans/<scanId>.json` that earlier
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

/** A contour layer: the dataset's own (imported) ground truth, or model run N of this scan. */
export const layerIdSchema = z.union([
  z.literal('truth'),
  z.templateLiteral(['run:', z.int()]).refine((v) => /^run:[1-9]\d*$/.test(v), 'not a run number'),
]);

/** One segmentation of the scan: its own layer, never merged into another. */
export const modelRunSchema = z.object({
  n: z.number().int().positive(),
  /** Registry id of the model, or `default` for the shipped one. */
  model: z.string(),
  at: z.string(),
  predictions: z.record(z.string(), sliceMasksWireSchema),
  /** Model uncertainty of each slice, 0 … 1 (model/uncertainty); absent for runs made before it existed. */
  uncertainty: z.record(z.string(), z.number().min(0).max(1)).optional(),
});

/** A clinician's edits set aside when a model run replaced them (restorable, never deleted). */
export const shelvedEditsSchema = z.object({
  at: z.string(),
  /** The layer they were made on, and the run that replaced them. */
  base: layerIdSchema,
  replacedBy: layerIdSchema,
  edits: z.record(z.string(), sliceMasksWireSchema),
  states: z.record(z.string(), sliceStateSchema),
});

/** Pixels one edit added to and removed from an organ, compared with the layer it was made on. */
export const organChangeSchema = z.object({
  organ: z.enum(ORGANS),
  added: z.number().int().nonnegative(),
  removed: z.number().int().nonnegative(),
});

/** One line of the audit trail: who did what to which slices, from which contour, and what changed. */
export const auditEntrySchema = z.object({
  at: z.string(),
  /** OS user name of the person at the workstation (os.userInfo in main). */
  user: z.string(),
  action: z.enum(['approve', 'unapprove', 'approve-slice', 'segment', 'use-layer']),
  /** Slices the action covers. */
  slices: z.array(z.string()),
  /** Of those, the slices never shown to a person (approved anyway because the user said so). */
  unviewed: z.array(z.string()).optional(),
  /** The layer under each slice's contour (`truth`, `run:N`), with the model of each run. */
  layers: z.record(z.string(), z.number().int().nonnegative()).optional(),
  models: z.array(z.string()).optional(),
  /** Slices a person changed, and how, compared with their layer. */
  changed: z
    .array(z.object({ sliceId: z.string(), layer: layerIdSchema, organs: z.array(organChangeSchema) }))
    .optional(),
  note: z.string().optional(),
});

/** The review-workflow parts of a scan document (format 3); absent in older files, which read as empty. */
const reviewFields = {
  runs: z.array(modelRunSchema),
  base: layerIdSchema,
  shelved: z.array(shelvedEditsSchema),
  viewed: z.array(z.string()),
  audit: z.array(auditEntrySchema),
};

/**
 * The `tractus` block of a scan file (a COCO dataset of the corrected slices). Version 2 kept only the
 * latest model output (`predictions`); version 3 keeps every run as a layer, shelved edits, the slices
 * shown to a person and the audit trail.
 */
export const cocoScanBlockSchema = z.object({
  format: z.literal('tractus-scan'),
  formatVersion: z.union([z.literal(2), z.literal(3)]),
  scanId: z.string(),
  version: z.number().int().nonnegative(),
  approved: z.boolean(),
  /** Slice id of each COCO image, in the order of `images`. */
  sliceIds: z.array(z.string()),
  states: z.record(z.string(), sliceStateSchema),
  predictions: z.record(z.string(), sliceMasksWireSchema).optional(),
  history: z.array(historyEntrySchema),
  ...z.object(reviewFields).partial().shape,
});

export const workspaceInfoSchema = z.object({
  format: z.literal('tractus-workspace'),
  formatVersion: z.literal(1),
  datasetRoot: z.string(),
  createdAt: z.string(),
});

/** A scan's review in memory (read from any format version). */
export type ScanDocument = Omit<z.infer<typeof scanDocumentSchema>, 'formatVersion' | 'predictions'> & {
  formatVersion: 3;
} & z.infer<z.ZodObject<typeof reviewFields>>;
export type LegacyScanDocument = z.infer<typeof scanDocumentSchema>;
export type HistoryEntry = z.infer<typeof historyEntrySchema>;
export type LayerId = z.infer<typeof layerIdSchema>;
export type ModelRun = z.infer<typeof modelRunSchema>;
export type AuditEntry = z.infer<typeof auditEntrySchema>;
export type OrganChange = z.infer<typeof organChangeSchema>;
