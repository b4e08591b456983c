/**
 * `tractus models ensemble`: several trained model folders of one architecture and preprocessing become
 * one model folder whose network averages their probability maps (model/arch/ensemble.ts), with its
 * model.onnx (one merged graph) checked against tfjs. The card starts from the first member's: its
 * post-processing and position prior, until `scripts/model/ship.ts` chooses them for the ensemble from
 * its own held-out maps. Its validation is empty: the members' numbers do not describe their mean.
 */
import path from 'node:path';
import { InputError } from '../core/errors';
import { mergeMembers } from '../model/arch/ensemble';
import { parseModelCard, type ModelCard } from '../model/card';
import { loadModel, saveModel, type LoadedModel } from '../model/model-io';
import { exportModelFolder, type OnnxExportReport } from '../model/onnx/save';

export interface EnsembleRequest {
  /** Model folders, at least 2. */
  members: string[];
  out: string;
  name?: string;
}

export interface EnsembleResult {
  dir: string;
  card: ModelCard;
  onnx: OnnxExportReport;
}

/** What must be equal for members to be averaged: the network's shape and what it is fed. */
function compatibilityKey(card: ModelCard): string {
  return JSON.stringify({ architecture: card.architecture, input: card.input, organs: card.organs });
}

function ensembleCard(members: LoadedModel[], name: string): ModelCard {
  const first = members[0]!.card;
  const names = members.map((m) => m.card.name);
  const datasets = members
    .flatMap((m) => m.card.training.datasets)
    .filter((d, i, all) => all.findIndex((e) => e.name === d.name) === i);
  return parseModelCard(
    {
      ...first,
      name,
      description:
        `Ensemble of ${members.length} models (${names.join(', ')}): their probability maps averaged. ` +
        `Each member: ${first.description}`,
      createdAt: new Date().toISOString(),
      architecture: { ...first.architecture, members: members.length },
      flopsPerSlice: undefined,
      training: {
        summary: `ensemble of ${names.join(', ')}`,
        datasets,
        provenance: {
          method: "ensemble: the members' probability maps averaged",
          baseModel: names.join(', '),
          commit: null,
          seed: null,
        },
        epochs: null,
        seconds: null,
      },
      validation: null,
    },
    `ensemble card ${name}`,
  );
}

export async function ensembleModelFolders(req: EnsembleRequest): Promise<EnsembleResult> {
  if (req.members.length < 2)
    throw new InputError('members', `an ensemble needs at least 2 model folders, got ${req.members.length}`);
  const members: LoadedModel[] = [];
  try {
    for (const dir of req.members) {
      const loaded = await loadModel(dir);
      members.push(loaded);
      if (loaded.card.architecture.members !== undefined)
        throw new InputError(dir, 'is already an ensemble; give its members instead');
      if (compatibilityKey(loaded.card) !== compatibilityKey(members[0]!.card))
        throw new InputError(
          dir,
          `has another architecture or input (size, slice stride, normalisation, spacing) than ${req.members[0]}`,
        );
    }
    const dir = path.resolve(req.out);
    const card = ensembleCard(members, req.name ?? path.basename(dir));
    const merged = mergeMembers(members.map((m) => m.model));
    try {
      await saveModel(merged, card, dir);
    } finally {
      merged.dispose();
    }
    const onnx = await exportModelFolder(dir);
    return { dir, card: { ...card, flopsPerSlice: onnx.flopsPerSlice }, onnx };
  } finally {
    for (const m of members) m.model.dispose();
  }
}
