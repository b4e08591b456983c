/**
 * Release step: copy a trained model into models/default with the card the clinic sees — post-processing
 * tuned on the leave-one-patient-out held-out predictions, the position prior when it won patient-wise,
 * and the nested patient-wise scores as its validation.
 *
 *   node --import tsx scripts/model/ship.ts --model DIR --crossval RUN/crossval.json --recipe "…" \
 *     [--slice-prior prior.json] [--mm2-per-pixel 2.25] [--external "name=evaluate.json=patients"] \
 *     [--source "name=text|licence|citation"] [--out models/default]
 */
import { parseArgs } from 'node:util';
import { ORGANS, type Organ } from '../../main/core/organs';
import { readJsonOrExplain } from '../../main/io/files';
import { initBackend } from '../../main/model/backend/select';
import { newModelCard } from '../../main/model/card';
import type { ModelCard } from '../../main/model/card';
import { DEFAULT_MODEL_DIR, loadModel, saveModel } from '../../main/model/model-io';
import type { OrganPostprocess } from '../../main/model/postprocess';
import { readSlicePrior } from '../../main/model/slice-prior-file';
import type { EvaluationReport } from '../../main/metrics/evaluation';
import type { CrossvalReport } from '../../main/services/crossval';
import type { WholeScanReport } from '../../main/services/crossval-scans';
import { BASE_POSTPROCESS } from '../../main/services/crossval-score';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string' },
    crossval: { type: 'string' },
    recipe: { type: 'string' },
    out: { type: 'string', default: DEFAULT_MODEL_DIR },
    /**
     * Area of one pixel of the tuning data in mm²: the tuned gate and component sizes (pixels) are also
     * written in mm² so they cover the same anatomy at any resolution (UW-Madison 1.5 mm: 2.25; the
     * site sample's upscaled 512² PNGs: ≈ 0.6).
     */
    'mm2-per-pixel': { type: 'string', default: '2.25' },
    'slice-prior': { type: 'string' },
    /** tuned (default) or plain (0.5, no gate): ship whichever scored better patient-wise. */
    postprocess: { type: 'string', default: 'tuned' },
    /** Dataset provenance: "name=source text|licence|citation" (repeatable), replacing a local name. */
    source: { type: 'string', multiple: true, default: [] },
    /** An external test set scored with `tractus evaluate --json`: "name=file=patients" (repeatable). */
    external: { type: 'string', multiple: true, default: [] },
  },
});
if (!a.model || !a.crossval || !a.recipe) throw new Error('--model, --crossval and --recipe are required');

await initBackend('wasm');
const { model, card } = await loadModel(a.model);
const report = (await readJsonOrExplain(a.crossval)) as CrossvalReport;
// The post-processing that ships is the one with the best nested patient-wise score on whole scans:
// plain 0.5, the tuned grid, or one threshold chosen by the competition score, each with or without the
// position prior. Without whole scans: the tuned grid (--postprocess plain for 0.5).
interface Choice {
  label: string;
  post: Record<Organ, OrganPostprocess>;
  minPrior: number | null;
  whole: WholeScanReport | undefined;
}
const scans = report.scans;
const plainPost = Object.fromEntries(ORGANS.map((o) => [o, BASE_POSTPROCESS])) as Record<
  Organ,
  OrganPostprocess
>;
const choices: Choice[] = scans
  ? [
      { label: 'threshold 0.5', post: plainPost, minPrior: null, whole: scans.plain },
      { label: 'tuned grid', post: report.postprocess, minPrior: null, whole: scans.tuned },
      ...(scans.plainWithPrior && scans.plainMinPrior
        ? [
            {
              label: 'threshold 0.5 + position prior',
              post: plainPost,
              minPrior: scans.plainMinPrior,
              whole: scans.plainWithPrior,
            },
          ]
        : []),
      ...(scans.tunedWithPrior && scans.minPrior
        ? [
            {
              label: 'tuned grid + position prior',
              post: report.postprocess,
              minPrior: scans.minPrior,
              whole: scans.tunedWithPrior,
            },
          ]
        : []),
      ...[scans.thresholdByScore, scans.volumeByScore, scans.gateByScore].flatMap((t) =>
        t
          ? [
              {
                label: `${t.setting.label} (chosen by the competition score)`,
                post: t.setting.post,
                minPrior: t.setting.minPrior || null,
                whole: t.report,
              },
            ]
          : [],
      ),
    ]
  : [
      a.postprocess === 'tuned'
        ? { label: 'tuned grid', post: report.postprocess, minPrior: null, whole: undefined }
        : { label: 'threshold 0.5', post: plainPost, minPrior: null, whole: undefined },
    ];
const score = (c: Choice): number => c.whole?.pooled.competition.score ?? 0;
const chosen = choices.reduce((best, c) => (score(c) > score(best) + 1e-9 ? c : best));
const useTuned = chosen.post === report.postprocess;
const mm2PerPixel = Number(a['mm2-per-pixel']);
const postprocess = Object.fromEntries(
  ORGANS.map((o) => {
    const p = chosen.post[o];
    const mm2 = (pixels: number): number => Math.round(pixels * mm2PerPixel);
    // A gate chosen in mm² (on whole scans) keeps its value; the pixel rule, for slices of unknown
    // spacing, is the same area in the tuning data's pixels.
    const gateMinMm2 = p.gateMinMm2 ?? mm2(p.gateMinPixels);
    const gateMinPixels = p.gateMinMm2 === undefined ? p.gateMinPixels : Math.round(gateMinMm2 / mm2PerPixel);
    return [o, { ...p, gateMinPixels, gateMinMm2, minComponentMm2: mm2(p.minComponentPixels) }];
  }),
) as Record<Organ, OrganPostprocess>;
if (chosen.minPrior && !a['slice-prior']) throw new Error(`${chosen.label} needs --slice-prior`);
const slicePrior = chosen.minPrior
  ? { ...(await readSlicePrior(a['slice-prior']!)), minPrior: chosen.minPrior }
  : undefined;
const whole = chosen.whole;
process.stderr.write(
  `post-processing: ${chosen.label} (${choices.map((c) => `${c.label} ${score(c).toFixed(3)}`).join('; ')})\n`,
);
const tuned = useTuned ? report.tuned : report.untuned;
const slices = report.folds.reduce((s, f) => s + f.testSlices, 0);

type ScanResult = NonNullable<NonNullable<ModelCard['validation']>['scanResults']>[number];
const organDice = (d: Record<Organ, number | null>): ScanResult['dice'] =>
  Object.fromEntries(ORGANS.map((o) => [o, d[o]])) as ScanResult['dice'];
const scanResults: ScanResult[] = [];
if (whole) {
  scanResults.push({
    name: `leave-one-patient-out on ${whole.perScan.length} whole real scans (post-processing${slicePrior ? ' and position prior' : ''} tuned on the other patients only)`,
    patients: new Set(whole.perScan.map((s) => s.patientId)).size,
    scans: whole.perScan.length,
    slices: whole.pooled.counts.slices,
    competitionScore: whole.pooled.competition.score,
    dice: organDice(whole.pooled.dice),
    hausdorff: whole.pooled.hausdorff.mean,
  });
}
for (const ext of a.external) {
  const [name, file, patients] = ext.split('=') as [string, string, string | undefined];
  const r = (await readJsonOrExplain(file)) as EvaluationReport;
  scanResults.push({
    name,
    // An evaluate report counts scans, not patients: the caller says how many patients the set holds.
    patients: Number(patients ?? 0),
    scans: r.counts.scans,
    slices: r.counts.slices,
    competitionScore: r.competition.score,
    dice: organDice(r.dice),
    hausdorff: r.hausdorff.mean,
  });
}

const f2 = (v: number | null | undefined): string => (v === null || v === undefined ? '–' : v.toFixed(2));
const estimate = whole
  ? `competition score ${f2(whole.pooled.competition.score)} and Dice ${f2(whole.pooled.dice.mean)} over slices where an organ is present or predicted (leave-one-patient-out on ${whole.perScan.length} whole real scans)`
  : `mean Dice ${f2(tuned.meanDice)} (leave-one-patient-out over ${report.folds.length} patients)`;
const shipped = newModelCard({
  name: 'tractus-default',
  description:
    `U-Net for large bowel, small bowel and stomach on axial abdominal MRI. ${a.recipe} ` +
    `Estimated accuracy on unseen patients: ${estimate}. This is far from clinical quality: every contour ` +
    `must be reviewed and corrected by a clinician; fine-tune on your own corrected scans (tractus train --init).`,
  architecture: card.architecture,
  inputSize: card.input.size,
  sliceStride: card.input.sliceStride,
  ...(card.input.spacingMm ? { spacingMm: card.input.spacingMm } : {}),
  normalisation: card.input.normalisation,
  postprocess,
  ...(slicePrior ? { slicePrior } : {}),
  training: {
    ...card.training,
    datasets: card.training.datasets.map((d) => {
      const recipe = a.source.find((r) => r.startsWith(`${d.name}=`));
      if (!recipe) return d;
      const [source, licence, citation] = recipe.slice(d.name.length + 1).split('|');
      return {
        ...d,
        source: source!,
        ...(licence ? { licence } : {}),
        ...(citation ? { citation } : {}),
      };
    }),
    provenance: { ...card.training.provenance, commit: process.env.TRACTUS_COMMIT ?? null },
  },
  validation: {
    split: 'patient-wise',
    patients: report.folds.length,
    slices,
    dice: Object.fromEntries(
      ORGANS.map((o) => [o, (whole ? whole.pooled.dice[o] : tuned.organs[o].dice) ?? 1]),
    ) as Record<Organ, number>,
    // Slices without the organ on which nothing was predicted: from the whole scans when there are any.
    correctEmpty: Object.fromEntries(
      ORGANS.map((o) => {
        const c = whole?.pooled.counts.per_organ[o];
        if (!c) return [o, tuned.organs[o].correctEmpty ?? 1];
        const empty = c.correct_empties + c.false_positive_slices;
        return [o, empty ? c.correct_empties / empty : 1];
      }),
    ) as Record<Organ, number>,
    ...(scanResults.length ? { scanResults } : {}),
  },
  backend: card.runtime.backend,
  versions: card.runtime.versions,
});
await saveModel(model, shipped, a.out, { overwrite: true, allowShippedFolder: true });
process.stderr.write(
  `shipped ${a.model} to ${a.out}${slicePrior ? ` with the position prior (min ${slicePrior.minPrior})` : ''}\n`,
);
