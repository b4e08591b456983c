/**
 * Release step: copy a trained model into models/default with the card the clinic sees — post-processing
 * tuned on the leave-one-patient-out held-out predictions, and the nested-LOPO score as its validation.
 *
 *   node --import tsx scripts/model/ship.ts --model DIR --crossval DIR/crossval.json --recipe "…" [--out models/default]
 */
import { parseArgs } from 'node:util';
import { ORGANS, type Organ } from '../../main/core/organs';
import { readJsonOrExplain } from '../../main/io/files';
import { initBackend } from '../../main/model/backend/select';
import { newModelCard } from '../../main/model/card';
import { DEFAULT_MODEL_DIR, loadModel, saveModel } from '../../main/model/model-io';
import type { OrganPostprocess } from '../../main/model/postprocess';
import type { CrossvalReport } from '../../main/services/crossval';
import { BASE_POSTPROCESS } from '../../main/services/crossval-score';

/**
 * The site sample's 512² PNGs are upscaled UW-Madison slices (about 266 px at 1.5 mm), so one of their
 * pixels covers about (1.5 · 266 / 512)² ≈ 0.6 mm²; the mm² rules then carry the tuned gate and component
 * sizes over to scans whose pixel spacing is known (at 266² the same anatomy has ≈ 3.7× fewer pixels).
 */
const SITE_SAMPLE_MM2_PER_PIXEL = 0.6;

const { values: a } = parseArgs({
  options: {
    model: { type: 'string' },
    crossval: { type: 'string' },
    recipe: { type: 'string' },
    out: { type: 'string', default: DEFAULT_MODEL_DIR },
    /**
     * tuned: the grid setting chosen on all held-out predictions, validated by nested LOPO; plain: 0.5
     * threshold, no gate or component removal, validated by plain LOPO. Ship whichever scored better.
     */
    postprocess: { type: 'string', default: 'tuned' },
    /** How to recreate a dataset trained on from a scratch folder: "name=command" (repeatable). */
    source: { type: 'string', multiple: true, default: [] },
  },
});
if (!a.model || !a.crossval || !a.recipe) throw new Error('--model, --crossval and --recipe are required');

await initBackend('wasm');
const { model, card } = await loadModel(a.model);
const report = (await readJsonOrExplain(a.crossval)) as CrossvalReport;
const useTuned = a.postprocess === 'tuned';
const postprocess = Object.fromEntries(
  ORGANS.map((o) => {
    const p = useTuned ? report.postprocess[o] : BASE_POSTPROCESS;
    const mm2 = (pixels: number): number => Math.round(pixels * SITE_SAMPLE_MM2_PER_PIXEL);
    return [o, { ...p, gateMinMm2: mm2(p.gateMinPixels), minComponentMm2: mm2(p.minComponentPixels) }];
  }),
) as Record<Organ, OrganPostprocess>;
const tuned = useTuned ? report.tuned : report.untuned;
const slices = report.folds.reduce((s, f) => s + f.testSlices, 0);
const shipped = newModelCard({
  name: 'tractus-default',
  description:
    `Compact U-Net for large bowel, small bowel and stomach on axial abdominal MRI. ${a.recipe} ` +
    `Estimated accuracy on unseen patients (leave-one-patient-out over the ${report.folds.length} patients ` +
    `of the 16-slice site sample${useTuned ? ', post-processing tuned on the other patients only' : ''}): mean Dice ` +
    `${tuned.meanDice?.toFixed(2) ?? '–'}. This is far from clinical quality: every contour must be reviewed ` +
    `and corrected by a clinician; fine-tune on your own corrected scans (tractus train --init).`,
  architecture: card.architecture,
  inputSize: card.input.size,
  sliceStride: card.input.sliceStride,
  normalisation: card.input.normalisation,
  postprocess,
  training: {
    ...card.training,
    datasets: card.training.datasets.map((d) => {
      const recipe = a.source.find((r) => r.startsWith(`${d.name}=`));
      return recipe ? { ...d, source: recipe.slice(d.name.length + 1) } : d;
    }),
    provenance: { ...card.training.provenance, commit: process.env.TRACTUS_COMMIT ?? null },
  },
  validation: {
    split: 'patient-wise',
    patients: report.folds.length,
    slices,
    dice: Object.fromEntries(ORGANS.map((o) => [o, tuned.organs[o].dice ?? 1])) as Record<Organ, number>,
    correctEmpty: Object.fromEntries(ORGANS.map((o) => [o, tuned.organs[o].correctEmpty ?? 1])) as Record<
      Organ,
      number
    >,
  },
  backend: card.runtime.backend,
  versions: card.runtime.versions,
});
await saveModel(model, shipped, a.out, { overwrite: true, allowShippedFolder: true });
process.stderr.write(`shipped ${a.model} to ${a.out}\n`);
