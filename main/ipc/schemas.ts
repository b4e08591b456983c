/** Zod schemas for the arguments of every API channel: main trusts nothing the renderer or a browser sends. */
import { z } from 'zod';
import type { Organ } from '../core/organs';
import { roiNamesProblem } from '../export/organ-names';
import type { ArgsOf, Channel } from '../../preload/api';
import { layerIdSchema, sliceMasksWireSchema, sliceStateSchema } from '../workspace/schema';

const none = z.object({}).strict();

/** A clinic's ROI names (Settings.roiNames): checked by the one rule the CLI's `--roi-names` uses too. */
export const roiNamesSchema = z
  .object({ large_bowel: z.string(), small_bowel: z.string(), stomach: z.string() } satisfies Record<
    Organ,
    z.ZodString
  >)
  .partial()
  .strict()
  .superRefine((names, ctx) => {
    const problem = roiNamesProblem(names);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
const id = z.string().min(1).max(256);

export const ARG_SCHEMAS: { [C in Channel]: z.ZodType<ArgsOf<C>> } = {
  'app:info': none,
  'settings:get': none,
  'settings:set': z
    .object({
      locale: z.enum(['en', 'fr']),
      recentFolders: z.array(z.string().max(4096)).max(20),
      overlayOpacity: z.number().min(0).max(1),
      overlayStyle: z.enum(['fill', 'contour']),
      zoom: z.number().min(0.1).max(20),
      roiNames: roiNamesSchema,
    })
    .partial()
    .strict(),
  'dataset:open': z.object({ path: z.string().min(1).max(4096) }).strict(),
  'dataset:openDemo': none,
  'dataset:current': none,
  'scan:slice': z.object({ scanId: id, index: z.number().int().nonnegative() }).strict(),
  'scan:thumbnails': z
    .object({
      scanId: id,
      indices: z.array(z.number().int().nonnegative()).max(1000),
      size: z.number().int().min(8).max(512),
    })
    .strict(),
  'scan:volume': z.object({ scanId: id, size: z.number().int().min(16).max(512) }).strict(),
  'masks:get': z.object({ scanId: id }).strict(),
  'masks:save': z
    .object({ scanId: id, sliceId: id, masks: sliceMasksWireSchema, state: sliceStateSchema.optional() })
    .strict(),
  'slice:setState': z.object({ scanId: id, sliceId: id, state: sliceStateSchema }).strict(),
  'scan:approve': z
    .object({
      scanId: id,
      approved: z.boolean(),
      viewed: z.array(id).max(100_000).optional(),
      includeUnviewed: z.boolean().optional(),
    })
    .strict(),
  'layers:masks': z.object({ scanId: id, layer: layerIdSchema }).strict(),
  'layers:use': z.object({ scanId: id, layer: layerIdSchema }).strict(),
  'segment:check': z.object({ scope: z.enum(['scan', 'patient', 'dataset']), id: id.optional() }).strict(),
  'scan:volumes': z.object({ scanId: id }).strict(),
  'review:first': z.object({ scanId: id, layer: layerIdSchema.optional() }).strict(),
  'segment:start': z
    .object({
      scope: z.enum(['scan', 'patient', 'dataset']),
      id: id.optional(),
      resume: z.boolean().optional(),
      replace: z.boolean().optional(),
    })
    .strict(),
  'train:start': z
    .object({
      epochs: z.number().int().min(1).max(1000),
      include: z.array(z.enum(['edited', 'approved'])).min(1),
    })
    .strict(),
  'export:start': z
    .object({
      format: z.enum(['coco', 'kaggle-csv', 'png-masks', 'rtstruct', 'dicom-seg', 'nifti', 'nnunet']),
      outDir: z.string().min(1).max(4096).optional(),
    })
    .strict(),
  'job:cancel': z.object({ jobId: id }).strict(),
  'job:get': z.object({ jobId: id }).strict(),
  'jobs:list': none,
  'models:list': none,
  'models:activate': z.object({ id }).strict(),
  'models:rollback': none,
};
