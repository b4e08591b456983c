/**
 * An ensemble as one network: members of one architecture side by side on a shared input, their
 * probability maps averaged by an Average layer. Being a single tfjs model, it trains (jointly), saves,
 * loads, resizes and exports to ONNX (one merged graph, one session) wherever a single network does, so no
 * other code needs to know it is looking at several.
 */
import * as tfl from '@tensorflow/tfjs-layers';

/** Name of the layer averaging the members' outputs. */
export const ENSEMBLE_MEAN = 'ensemble_mean';

/** Prefix of member `i`'s layer names (from 0): m1_, m2_, … */
export function memberPrefix(i: number): string {
  return `m${i + 1}_`;
}

type NodeRef = [layer: string, node: number, tensor: number, kwargs: Record<string, unknown>];

/** A functional model's config (`getConfig()`), as far as merging needs it. */
interface LayerConfig {
  name: string;
  className: string;
  config: { name: string; [key: string]: unknown };
  inboundNodes: NodeRef[][];
}
interface ModelConfig {
  name: string;
  layers: LayerConfig[];
  inputLayers: Array<[string, number, number]>;
  outputLayers: Array<[string, number, number]>;
}

const sameShape = (a: readonly (number | null)[], b: readonly (number | null)[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * One model computing the mean of `members`' outputs, with a copy of their weights (the members are left
 * as they are). Every member must have one input and one output of the same shapes.
 */
export function mergeMembers(members: readonly tfl.LayersModel[]): tfl.LayersModel {
  if (members.length < 2) throw new Error(`an ensemble needs at least 2 members, got ${members.length}`);
  const [first] = members as [tfl.LayersModel];
  for (const [i, m] of members.entries()) {
    if (m.inputs.length !== 1 || m.outputs.length !== 1)
      throw new Error(`ensemble member ${i + 1} must have one input and one output`);
    if (
      !sameShape(m.inputs[0]!.shape, first.inputs[0]!.shape) ||
      !sameShape(m.outputs[0]!.shape, first.outputs[0]!.shape)
    )
      throw new Error(
        `ensemble member ${i + 1} (input ${JSON.stringify(m.inputs[0]!.shape)}, output ` +
          `${JSON.stringify(m.outputs[0]!.shape)}) does not match member 1`,
      );
  }
  const configs = members.map((m) => m.getConfig() as unknown as ModelConfig);
  const inputName = configs[0]!.inputLayers[0]![0];
  const inputLayer = configs[0]!.layers.find((l) => l.name === inputName)!;
  const layers: LayerConfig[] = [inputLayer];
  const outputs: string[] = [];
  configs.forEach((json, i) => {
    const own = json.inputLayers[0]![0];
    const rename = (name: string) => (name === own ? inputName : memberPrefix(i) + name);
    for (const layer of json.layers) {
      if (layer.name === own) continue;
      const name = rename(layer.name);
      layers.push({
        ...layer,
        name,
        config: { ...layer.config, name },
        inboundNodes: layer.inboundNodes.map((node) =>
          node.map(([src, n, t, kw]): NodeRef => [rename(src), n, t, kw]),
        ),
      });
    }
    outputs.push(rename(json.outputLayers[0]![0]));
  });
  layers.push({
    name: ENSEMBLE_MEAN,
    className: 'Average',
    config: { name: ENSEMBLE_MEAN, trainable: true },
    inboundNodes: [outputs.map((o): NodeRef => [o, 0, 0, {}])],
  });
  const config = {
    name: `ensemble_of_${members.length}`,
    layers,
    inputLayers: [[inputName, 0, 0]],
    outputLayers: [[ENSEMBLE_MEAN, 0, 0]],
  };
  const merged = tfl.LayersModel.fromConfig(
    tfl.LayersModel,
    config as unknown as Parameters<typeof tfl.LayersModel.fromConfig>[1],
  ) as tfl.LayersModel;
  members.forEach((m, i) => {
    for (const layer of m.layers) {
      const weights = layer.getWeights();
      if (weights.length > 0) merged.getLayer(memberPrefix(i) + layer.name).setWeights(weights);
    }
  });
  return merged;
}
