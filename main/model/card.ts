/**
 * The model card: everything needed to run a model exactly as it was validated (architecture, input
 * size, 2.5D stride, normalisation, post-processing per organ) and to judge whether to trust it
 * (training data, provenance, patient-wise validation metrics, intended use). Stored as
 * `model-card.json` beside model.json; inference reads its numbers from here, never from code.
 */
import path from 'node:path';
import { z } from 'zod';
import { InputError } from '../core/errors';
import { ORGANS, type Organ } from '../core/organs';
import { readJsonOrExplain } from '../io/files';
import {
  archSpecSchema,
  downsamplingFactor,
  inputSizeSchema,
  type ArchSpec,
  type InputSize,
} from './arch/spec';
import type { OrganPostprocess } from './postprocess';
import { DEFAULT_NORMALISATION, type NormalisationSpec } from './preprocess';
import { slicePriorSchema, type SlicePrior } from './slice-prior';

export const MODEL_CARD_FILE = 'model-card.json';
export const MODEL_CARD_FORMAT = 'tractus-model-card';
export const INTENDED_USE =
  'Research use; every contour must be reviewed by a clinician. Not a medical device; not for unsupervised clinical decisions.';

/** An organ's post-processing (the fields are documented on OrganPostprocess). */
export const organPostprocessSchema = z.object({
  threshold: z.number().min(0).max(1),
  gateThreshold: z.number().min(0).max(1),
  gateMinPixels: z.number().int().min(0),
  gateMinMm2: z.number().min(0).optional(),
  minComponentPixels: z.number().int().min(0),
  minComponentMm2: z.number().min(0).optional(),
  minVolumeShare: z.number().min(0).max(1).optional(),
}) satisfies z.ZodType<OrganPostprocess>;

const organNumbers = z.object({
  large_bowel: z.number(),
  small_bowel: z.number(),
  stomach: z.number(),
});

export const normalisationSchema = z.object({
  method: z.literal('percentile'),
  lowPercentile: z.number().min(0).max(100),
  highPercentile: z.number().min(0).max(100),
});

const datasetSummarySchema = z.object({
  name: z.string().min(1),
  /** Where the data came from (URL, citation, site). */
  source: z.string().min(1),
  patients: z.number().int().min(0),
  scans: z.number().int().min(0).optional(),
  slices: z.number().int().min(0),
  /** The data's licence or terms of use, and how to cite it. */
  licence: z.string().optional(),
  citation: z.string().optional(),
});

/** A patient-wise result on whole scans, as `tractus evaluate` and `crossval --whole-scans` report it. */
const scanResultSchema = z.object({
  /** What was scored: e.g. "3 held-out patients, leave-one-patient-out" or an external test set. */
  name: z.string(),
  patients: z.number().int().min(0),
  scans: z.number().int().min(0),
  slices: z.number().int().min(0),
  /** 0.4 · Dice (empties count 1) + 0.6 · (1 − normalised 3-D Hausdorff); null without a Hausdorff term. */
  competitionScore: z.number().nullable(),
  /** Dice per organ over slices where the organ is present or predicted. */
  dice: z.object({
    large_bowel: z.number().nullable(),
    small_bowel: z.number().nullable(),
    stomach: z.number().nullable(),
  }),
  hausdorff: z.number().nullable(),
});

export const modelCardSchema = z
  .object({
    format: z.literal(MODEL_CARD_FORMAT),
    version: z.literal(1),
    name: z.string().min(1),
    description: z.string(),
    /** ISO 8601 date-time the weights were produced. */
    createdAt: z.iso.datetime({ offset: true }),
    /** True for a stand-in model that has not been trained to clinical-use quality. */
    placeholder: z.boolean().default(false),
    architecture: archSpecSchema,
    /** Multiply-adds × 2 of one forward pass at `input.size` (written with model.onnx). */
    flopsPerSlice: z.number().positive().optional(),
    input: z.object({
      size: inputSizeSchema,
      /** 2.5D slice offset s: channels are slices i−s, i, i+s. */
      sliceStride: z.number().int().min(0),
      normalisation: normalisationSchema,
      resize: z.literal('letterbox-bilinear'),
      /**
       * Millimetres per input pixel: scans with a known pixel spacing are resampled to it (centre-cropped
       * or padded), so every scan meets the network at one physical scale; absent: fitted to the input.
       */
      spacingMm: z.number().positive().optional(),
    }),
    /** Output channel order; must be ORGANS. */
    organs: z.array(z.string()),
    postprocess: z.object({
      large_bowel: organPostprocessSchema,
      small_bowel: organPostprocessSchema,
      stomach: organPostprocessSchema,
    }),
    /** Where along a scan each organ is outlined (see slice-prior.ts); absent: no per-slice position gate. */
    slicePrior: slicePriorSchema.optional(),
    training: z.object({
      summary: z.string(),
      datasets: z.array(datasetSummarySchema),
      /** How the weights were made: from scratch, or fine-tuned from which model; code commit; seed. */
      provenance: z.object({
        method: z.string(),
        baseModel: z.string().nullable(),
        commit: z.string().nullable(),
        seed: z.number().int().nullable(),
      }),
      epochs: z.number().int().min(0).nullable(),
      seconds: z.number().min(0).nullable(),
    }),
    validation: z
      .object({
        /** Always split by patient so no patient is in both training and validation. */
        split: z.literal('patient-wise'),
        patients: z.number().int().min(0),
        slices: z.number().int().min(0),
        dice: organNumbers,
        /** Fraction of slices without the organ on which the model also predicts nothing. */
        correctEmpty: organNumbers,
        /** Whole-scan results: held-out folds and external test sets. */
        scanResults: z.array(scanResultSchema).optional(),
      })
      .nullable(),
    runtime: z.object({
      /** tfjs backend the model was trained / validated on. */
      backend: z.string(),
      versions: z.record(z.string(), z.string()),
    }),
    intendedUse: z.string().min(1),
  })
  .superRefine((card, ctx) => {
    if (card.organs.length !== ORGANS.length || card.organs.some((o, i) => o !== ORGANS[i])) {
      ctx.addIssue({
        code: 'custom',
        path: ['organs'],
        message: `must be ${ORGANS.join(', ')} in this order`,
      });
    }
    if (card.architecture.outChannels !== ORGANS.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['architecture', 'outChannels'],
        message: `must be ${ORGANS.length}, one per organ`,
      });
    }
    if (card.architecture.inChannels !== 3) {
      ctx.addIssue({
        code: 'custom',
        path: ['architecture', 'inChannels'],
        message: 'must be 3 (2.5D stack)',
      });
    }
    const factor = downsamplingFactor(card.architecture);
    const { height, width } = card.input.size;
    if (height % factor !== 0 || width % factor !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['input', 'size'],
        message: `${height}×${width} is not a multiple of ${factor} (the architecture's down-sampling)`,
      });
    }
    const n = card.input.normalisation;
    if (n.lowPercentile >= n.highPercentile) {
      ctx.addIssue({
        code: 'custom',
        path: ['input', 'normalisation'],
        message: 'lowPercentile must be below highPercentile',
      });
    }
  });

export type ModelCard = z.infer<typeof modelCardSchema>;
/** A card as written by hand or code: defaults may be left out. */
export type ModelCardInput = z.input<typeof modelCardSchema>;

/** Validate a parsed card; `where` names the file in the error. */
export function parseModelCard(value: unknown, where: string): ModelCard {
  const result = modelCardSchema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
  const more = result.error.issues.length > 5 ? ` (+${result.error.issues.length - 5} more)` : '';
  throw new InputError(where, `not a valid Tractus model card: ${issues}${more}`);
}

/** Read and validate `<dir>/model-card.json`. */
export async function readModelCard(dir: string): Promise<ModelCard> {
  const file = path.join(dir, MODEL_CARD_FILE);
  return parseModelCard(await readJsonOrExplain(file), file);
}

/**
 * Starting post-processing values for a new card, before validation tunes them: threshold 0.5, organ kept
 * only with ≥ 20 pixels above 0.7, components under 20 mm² (or 10 pixels without spacing) dropped.
 */
export const DEFAULT_ORGAN_POSTPROCESS: OrganPostprocess = {
  threshold: 0.5,
  gateThreshold: 0.7,
  gateMinPixels: 20,
  minComponentPixels: 10,
  minComponentMm2: 20,
};

export interface NewModelCardOptions {
  name: string;
  description: string;
  architecture: ArchSpec;
  inputSize: InputSize;
  sliceStride?: number;
  /** Millimetres per input pixel (see `input.spacingMm`); absent: slices are fitted to the input. */
  spacingMm?: number;
  normalisation?: NormalisationSpec;
  postprocess?: Partial<Record<Organ, OrganPostprocess>>;
  slicePrior?: SlicePrior;
  placeholder?: boolean;
  training?: ModelCard['training'];
  validation?: ModelCard['validation'];
  backend: string;
  versions: Record<string, string>;
  createdAt?: Date;
}

/** A complete, validated card with the defaults filled in (s = 2, 0.5–99.5 % normalisation). */
export function newModelCard(o: NewModelCardOptions): ModelCard {
  const card: ModelCardInput = {
    format: MODEL_CARD_FORMAT,
    version: 1,
    name: o.name,
    description: o.description,
    createdAt: (o.createdAt ?? new Date()).toISOString(),
    placeholder: o.placeholder ?? false,
    architecture: o.architecture,
    input: {
      size: o.inputSize,
      sliceStride: o.sliceStride ?? 2,
      normalisation: o.normalisation ?? DEFAULT_NORMALISATION,
      resize: 'letterbox-bilinear',
      ...(o.spacingMm ? { spacingMm: o.spacingMm } : {}),
    },
    organs: [...ORGANS],
    postprocess: {
      large_bowel: o.postprocess?.large_bowel ?? DEFAULT_ORGAN_POSTPROCESS,
      small_bowel: o.postprocess?.small_bowel ?? DEFAULT_ORGAN_POSTPROCESS,
      stomach: o.postprocess?.stomach ?? DEFAULT_ORGAN_POSTPROCESS,
    },
    ...(o.slicePrior ? { slicePrior: o.slicePrior } : {}),
    training: o.training ?? {
      summary: 'untrained',
      datasets: [],
      provenance: { method: 'random initialisation', baseModel: null, commit: null, seed: null },
      epochs: 0,
      seconds: 0,
    },
    validation: o.validation ?? null,
    runtime: { backend: o.backend, versions: o.versions },
    intendedUse: INTENDED_USE,
  };
  return parseModelCard(card, `model card ${o.name}`);
}
