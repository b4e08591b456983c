/**
 * The tissue classes a synthetic slice is painted with, and their MR appearance.
 * Realistic appearance follows the MR-Linac (0.35 T balanced SSFP / TrueFISP) look of the UW-Madison
 * scans as seen in ../shared/data/raw16 and site-sample: fat and fluid bright, liver and muscle dark
 * grey, vessels bright from inflow, stool mottled, air black. Values are relative to fat = 1.
 */
import type { Rng } from '../model/augment/random';

export const TISSUES = [
  'background',
  'subcutaneous_fat',
  'muscle',
  'visceral_fat',
  'liver',
  'spleen',
  'kidney_cortex',
  'kidney_medulla',
  'vertebral_marrow',
  'bone_cortex',
  'csf',
  'vessel',
  'hepatic_vessel',
  'gallbladder',
  'pancreas',
  'stomach_wall',
  'stomach_content',
  'stomach_air',
  'colon_wall',
  'colon_stool',
  'colon_air',
  'small_bowel_wall',
  'small_bowel_content',
  'arm',
  'clutter',
] as const;
export type Tissue = (typeof TISSUES)[number];
export const TISSUE_COUNT = TISSUES.length;

export function tissueId(t: Tissue): number {
  return TISSUES.indexOf(t);
}

export const T = Object.fromEntries(TISSUES.map((t, i) => [t, i])) as Record<Tissue, number>;

/** Appearance of a tissue in one synthetic scan: mean, spread of its texture, texture grain (mm). */
export interface TissueLook {
  mean: number;
  /** Multiplicative texture amplitude (0 = flat). */
  texture: number;
  /** Texture grain in mm (the cell of its noise). */
  grain: number;
}

/** Plausible TrueFISP ranges [lo, hi] of the mean, relative to fat = 1, with texture amplitude and grain. */
const REALISTIC: Record<Tissue, [lo: number, hi: number, texture: number, grain: number]> = {
  background: [0, 0, 0, 10],
  subcutaneous_fat: [0.85, 1.0, 0.05, 6],
  muscle: [0.18, 0.3, 0.1, 3],
  visceral_fat: [0.75, 0.95, 0.08, 5],
  liver: [0.26, 0.4, 0.08, 4],
  spleen: [0.4, 0.55, 0.06, 5],
  kidney_cortex: [0.4, 0.55, 0.06, 4],
  kidney_medulla: [0.55, 0.75, 0.06, 4],
  vertebral_marrow: [0.4, 0.6, 0.15, 3],
  bone_cortex: [0.03, 0.1, 0.2, 3],
  csf: [0.75, 1.0, 0.03, 5],
  vessel: [0.7, 1.0, 0.05, 5],
  hepatic_vessel: [0.5, 0.9, 0.05, 5],
  gallbladder: [0.8, 1.0, 0.03, 6],
  pancreas: [0.35, 0.5, 0.1, 3],
  stomach_wall: [0.2, 0.35, 0.08, 3],
  stomach_content: [0.45, 0.95, 0.25, 5],
  stomach_air: [0.0, 0.05, 0.3, 4],
  colon_wall: [0.2, 0.35, 0.08, 3],
  colon_stool: [0.2, 0.45, 0.55, 3],
  colon_air: [0.0, 0.05, 0.3, 4],
  small_bowel_wall: [0.18, 0.32, 0.1, 3],
  small_bowel_content: [0.45, 0.9, 0.2, 4],
  arm: [0.3, 0.7, 0.3, 6],
  // unlabelled soft tissue between the organs: mesenteric vessels, duodenum, lymph nodes, fluid
  clutter: [0.3, 0.8, 0.2, 4],
};

/** Draw one scan's realistic appearance (each tissue mean uniform in its range). */
export function realisticLooks(rng: Rng): TissueLook[] {
  return TISSUES.map((t) => {
    const [lo, hi, texture, grain] = REALISTIC[t];
    return { mean: rng.uniform(lo, hi), texture, grain };
  });
}

/**
 * SynthSeg-style appearance: every tissue mean drawn uniformly in [0, 1] independently (a Gaussian
 * mixture with random means), so a model cannot rely on any one contrast and must learn shape and
 * context. Background stays dark: air is dark in every MR sequence.
 */
export function randomLooks(rng: Rng): TissueLook[] {
  return TISSUES.map((t) => {
    const [, , texture, grain] = REALISTIC[t];
    if (t === 'background') return { mean: 0, texture: 0, grain };
    return { mean: rng.uniform(0.05, 1), texture: texture * rng.uniform(0.5, 1.5), grain };
  });
}

/** Tissues that are fat: a water/fat boundary in TrueFISP shows a dark "India ink" line. */
export const FAT_TISSUES: ReadonlySet<number> = new Set([T.subcutaneous_fat, T.visceral_fat]);
