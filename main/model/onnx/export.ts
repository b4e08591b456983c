/**
 * tfjs-layers model → ONNX (opset 13). The architectures are ours and use only standard layers, so each
 * layer maps onto a few ONNX operators; batch norm after a convolution is folded into its weights.
 * The graph keeps the tfjs interface (NHWC in, NHWC probabilities out, batch dimension free) so a
 * predictor can swap one for the other; inside, it runs NCHW, the layout ONNX Runtime's kernels expect.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import onnxProto from 'onnx-proto';
import type { onnx as Proto } from 'onnx-proto';
import { ONNX_INPUT, ONNX_OUTPUT } from './names';

// A CommonJS module (its `onnx` namespace is a property of module.exports, which Node's ESM loader
// cannot name), so the runtime value comes through the default import; the namespace types directly.
type OnnxNs = typeof import('onnx-proto').onnx;
const onnx: OnnxNs = (onnxProto as unknown as { onnx: OnnxNs }).onnx;

const OPSET = 13;

type Layer = tfl.layers.Layer;
type Config = Record<string, unknown>;

/** A per-layer error: the layer's name and class, and what about it cannot be exported. */
export class OnnxExportError extends Error {}

function fail(layer: Layer, problem: string): never {
  throw new OnnxExportError(`layer ${layer.name} (${layer.getClassName()}): ${problem}`);
}

/** Logical rank of a value: 4 = image (stored NCHW), 2 = [batch, features]. */
interface Value {
  name: string;
  rank: 2 | 4;
}

class GraphBuilder {
  readonly nodes: Proto.INodeProto[] = [];
  readonly initializers: Proto.ITensorProto[] = [];
  private count = 0;

  fresh(hint: string): string {
    return `${hint}:${this.count++}`;
  }

  floats(hint: string, data: Float32Array, dims: number[]): string {
    const name = this.fresh(hint);
    this.initializers.push({
      name,
      dataType: onnx.TensorProto.DataType.FLOAT,
      dims,
      rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    });
    return name;
  }

  int64s(hint: string, values: number[]): string {
    const name = this.fresh(hint);
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    this.initializers.push({
      name,
      dataType: onnx.TensorProto.DataType.INT64,
      dims: [values.length],
      rawData: new Uint8Array(data.buffer),
    });
    return name;
  }

  node(op: string, inputs: string[], attrs: Proto.IAttributeProto[] = [], output?: string): string {
    const out = output ?? this.fresh(op);
    this.nodes.push({ opType: op, input: inputs, output: [out], name: out, attribute: attrs });
    return out;
  }
}

const ints = (name: string, values: number[]): Proto.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INTS,
  ints: values,
});
const int = (name: string, i: number): Proto.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.INT,
  i,
});
const str = (name: string, s: string): Proto.IAttributeProto => ({
  name,
  type: onnx.AttributeProto.AttributeType.STRING,
  s: new TextEncoder().encode(s),
});

function pair(v: unknown, fallback: number): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2) return [Number(v[0]), Number(v[1])];
  return [fallback, fallback];
}

/** Weights of a layer by their short name (kernel, bias, gamma, moving_mean, …), as float32 arrays. */
function weightsOf(layer: Layer): Map<string, { data: Float32Array; shape: number[] }> {
  const values = layer.getWeights();
  const out = new Map<string, { data: Float32Array; shape: number[] }>();
  layer.weights.forEach((w, i) => {
    const t = values[i]!;
    const short = (w.originalName ?? w.name).split('/').pop()!.replace(/_\d+$/, '');
    out.set(short, { data: Float32Array.from(t.dataSync() as Float32Array), shape: [...t.shape] });
  });
  return out;
}

/** The input spatial size [height, width] of a layer (static in our models). */
function inputHW(layer: Layer): [number, number] {
  const shape = (layer.inboundNodes[0]?.inputShapes ?? []) as unknown as (number | null)[];
  const s = Array.isArray(shape[0]) ? (shape[0] as (number | null)[]) : shape;
  const [h, w] = [s[1], s[2]];
  if (typeof h !== 'number' || typeof w !== 'number') fail(layer, 'needs a fixed input height and width');
  return [h, w];
}

/** TF "same" / "valid" padding as explicit ONNX pads [top, left, bottom, right]. */
function convPads(layer: Layer, kernel: [number, number], strides: [number, number]): number[] {
  const cfg = layer.getConfig() as Config;
  if (cfg.padding === 'valid') return [0, 0, 0, 0];
  if (cfg.padding !== 'same') fail(layer, `padding "${String(cfg.padding)}" is not supported`);
  const hw = inputHW(layer);
  const before: number[] = [];
  const after: number[] = [];
  for (let i = 0; i < 2; i++) {
    const out = Math.ceil(hw[i]! / strides[i]!);
    const total = Math.max((out - 1) * strides[i]! + kernel[i]! - hw[i]!, 0);
    before.push(Math.floor(total / 2));
    after.push(total - Math.floor(total / 2));
  }
  return [...before, ...after];
}

function checkChannelsLast(layer: Layer): void {
  const cfg = layer.getConfig() as Config;
  if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast') {
    fail(layer, `data format ${String(cfg.dataFormat)} is not supported`);
  }
  const d = pair(cfg.dilationRate, 1);
  if (d[0] !== 1 || d[1] !== 1) fail(layer, 'dilated convolutions are not supported');
}

/** Apply a named Keras activation; `linear` adds nothing. */
function activation(g: GraphBuilder, x: string, name: unknown, layer: Layer): string {
  switch (name ?? 'linear') {
    case 'linear':
      return x;
    case 'relu':
      return g.node('Relu', [x]);
    case 'sigmoid':
      return g.node('Sigmoid', [x]);
    case 'tanh':
      return g.node('Tanh', [x]);
    case 'swish':
      // swish(x) = x·sigmoid(x); opset 13 has no Swish operator (ORT fuses the pair).
      return g.node('Mul', [x, g.node('Sigmoid', [x])]);
    default:
      return fail(layer, `activation "${String(name)}" is not supported`);
  }
}

/** Batch norm as y = x·scale + shift per channel, from gamma, beta, moving mean and variance. */
function bnAffine(layer: Layer): { scale: Float64Array; shift: Float64Array } {
  const cfg = layer.getConfig() as Config;
  const axis = cfg.axis as number | number[];
  if (!(
    axis === -1 ||
    axis === 3 ||
    (Array.isArray(axis) && axis.length === 1 && [-1, 3].includes(axis[0]!))
  ))
    fail(layer, `batch norm over axis ${JSON.stringify(axis)} (only the channel axis)`);
  const w = weightsOf(layer);
  const mean = w.get('moving_mean')!.data;
  const variance = w.get('moving_variance')!.data;
  const gamma = w.get('gamma')?.data;
  const beta = w.get('beta')?.data;
  const eps = Number(cfg.epsilon ?? 1e-3);
  const c = mean.length;
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    scale[i] = (gamma ? gamma[i]! : 1) / Math.sqrt(variance[i]! + eps);
    shift[i] = (beta ? beta[i]! : 0) - mean[i]! * scale[i]!;
  }
  return { scale, shift };
}

interface ConvParams {
  /** ONNX weight layout [out, in/group, kh, kw]; for ConvTranspose [in, out, kh, kw]. */
  weight: Float32Array;
  dims: number[];
  bias: Float32Array;
  /** Index in `weight` of output channel o's block, and its length, for folding a per-channel scale. */
  outChannels: number;
}

/** Reorder a tfjs kernel [kh, kw, a, b] so that `order` of (kh, kw, a, b) becomes the new axis order. */
function permuteKernel(
  data: Float32Array,
  shape: number[],
  order: [number, number, number, number],
): Float32Array {
  const out = new Float32Array(data.length);
  const dims = order.map((i) => shape[i]!);
  const srcStrides = [shape[1]! * shape[2]! * shape[3]!, shape[2]! * shape[3]!, shape[3]!, 1];
  let k = 0;
  const idx = [0, 0, 0, 0];
  for (idx[0] = 0; idx[0] < dims[0]!; idx[0]++)
    for (idx[1] = 0; idx[1] < dims[1]!; idx[1]++)
      for (idx[2] = 0; idx[2] < dims[2]!; idx[2]++)
        for (idx[3] = 0; idx[3] < dims[3]!; idx[3]++) {
          let src = 0;
          for (let a = 0; a < 4; a++) src += idx[a]! * srcStrides[order[a]!]!;
          out[k++] = data[src]!;
        }
  return out;
}

/** Multiply output channel o of a conv by scale[o] and add shift[o] to its bias (batch-norm folding). */
function foldAffine(p: ConvParams, scale: Float64Array, shift: Float64Array, transposed: boolean): void {
  const [d0, d1, kh, kw] = p.dims as [number, number, number, number];
  for (let i = 0; i < d0; i++)
    for (let j = 0; j < d1; j++) {
      const o = transposed ? j : i;
      const base = (i * d1 + j) * kh * kw;
      for (let k = 0; k < kh * kw; k++) p.weight[base + k] = p.weight[base + k]! * scale[o]!;
    }
  for (let o = 0; o < p.outChannels; o++) p.bias[o] = p.bias[o]! * scale[o]! + shift[o]!;
}

/**
 * Export a trained tfjs-layers model (one NHWC image input, one NHWC output) to ONNX bytes.
 * Throws OnnxExportError naming the first layer it cannot map.
 */
export function exportOnnx(model: tfl.LayersModel, opts: { producer?: string } = {}): Uint8Array {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new OnnxExportError(`model ${model.name}: exactly one input and one output are supported`);
  }
  const g = new GraphBuilder();
  const values = new Map<string, Value>();
  const consumers = new Map<string, number>();
  const inboundOf = (layer: Layer): Layer[] => layer.inboundNodes[0]?.inboundLayers ?? [];
  for (const layer of model.layers) {
    if (layer.inboundNodes.length > 1) fail(layer, 'layers applied more than once are not supported');
    for (const src of inboundOf(layer)) consumers.set(src.name, (consumers.get(src.name) ?? 0) + 1);
  }
  const outputLayer = model.outputs[0]!.sourceLayer as Layer;
  consumers.set(outputLayer.name, (consumers.get(outputLayer.name) ?? 0) + 1);
  /** Batch norms folded into the convolution before them: their output is the conv's. */
  const folded = new Set<string>();

  const inputOf = (layer: Layer, i = 0): Value => {
    const src = inboundOf(layer)[i];
    const v = src && values.get(src.name);
    if (!v) fail(layer, `input ${i} is not available`);
    return v;
  };

  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Config;
    const inputs = inboundOf(layer);
    const set = (name: string, rank: 2 | 4 = 4) => values.set(layer.name, { name, rank });
    const need4 = (v: Value) => (v.rank === 4 ? v.name : fail(layer, 'expects an image (rank-4) input'));

    if (folded.has(layer.name)) {
      set(values.get(inputs[0]!.name)!.name);
      continue;
    }
    switch (cls) {
      case 'InputLayer': {
        const shape = model.inputs[0]!.shape;
        if (shape.length !== 4) fail(layer, 'the input must be [batch, height, width, channels]');
        set(g.node('Transpose', [ONNX_INPUT], [ints('perm', [0, 3, 1, 2])]));
        break;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D':
      case 'Conv2DTranspose': {
        checkChannelsLast(layer);
        const x = need4(inputOf(layer));
        const w = weightsOf(layer);
        const kernel = (w.get('kernel') ?? w.get('depthwise_kernel'))!;
        const [kh, kw, a, b] = kernel.shape as [number, number, number, number];
        const strides = pair(cfg.strides, 1);
        let p: ConvParams;
        let group = 1;
        if (cls === 'Conv2D') {
          // tfjs [kh, kw, in, out] → ONNX [out, in, kh, kw]
          p = {
            weight: permuteKernel(kernel.data, kernel.shape, [3, 2, 0, 1]),
            dims: [b, a, kh, kw],
            bias: new Float32Array(b),
            outChannels: b,
          };
        } else if (cls === 'DepthwiseConv2D') {
          // tfjs [kh, kw, in, multiplier] → ONNX [in·multiplier, 1, kh, kw], output channel c·m + j
          group = a;
          p = {
            weight: permuteKernel(kernel.data, kernel.shape, [2, 3, 0, 1]),
            dims: [a * b, 1, kh, kw],
            bias: new Float32Array(a * b),
            outChannels: a * b,
          };
        } else {
          // tfjs [kh, kw, out, in] → ONNX ConvTranspose [in, out, kh, kw]
          p = {
            weight: permuteKernel(kernel.data, kernel.shape, [3, 2, 0, 1]),
            dims: [b, a, kh, kw],
            bias: new Float32Array(a),
            outChannels: a,
          };
        }
        const bias = w.get('bias');
        if (bias) p.bias.set(bias.data);
        // Fold a following batch norm when the conv feeds nothing else and has no activation between.
        const next = model.layers.find((l) => inboundOf(l).length === 1 && inboundOf(l)[0] === layer);
        const act = cfg.activation ?? 'linear';
        if (
          next &&
          next.getClassName() === 'BatchNormalization' &&
          consumers.get(layer.name) === 1 &&
          act === 'linear'
        ) {
          const { scale, shift } = bnAffine(next);
          foldAffine(p, scale, shift, cls === 'Conv2DTranspose');
          folded.add(next.name);
        }
        const W = g.floats(`${layer.name}/W`, p.weight, p.dims);
        const B = g.floats(`${layer.name}/B`, p.bias, [p.outChannels]);
        let y: string;
        if (cls === 'Conv2DTranspose') {
          const total = [kh - strides[0], kw - strides[1]];
          if (cfg.padding === 'same' && (total[0]! < 0 || total[1]! < 0))
            fail(layer, 'a transposed conv with kernel smaller than stride is not supported');
          const pads =
            cfg.padding === 'same'
              ? [
                  Math.floor(total[0]! / 2),
                  Math.floor(total[1]! / 2),
                  Math.ceil(total[0]! / 2),
                  Math.ceil(total[1]! / 2),
                ]
              : [0, 0, 0, 0];
          y = g.node(
            'ConvTranspose',
            [x, W, B],
            [ints('kernel_shape', [kh, kw]), ints('strides', strides), ints('pads', pads)],
          );
        } else {
          y = g.node(
            'Conv',
            [x, W, B],
            [
              ints('kernel_shape', [kh, kw]),
              ints('strides', strides),
              ints('pads', convPads(layer, [kh, kw], strides)),
              int('group', group),
            ],
          );
        }
        set(activation(g, y, act, layer));
        break;
      }
      case 'BatchNormalization': {
        const v = inputOf(layer);
        const { scale, shift } = bnAffine(layer);
        const dims = v.rank === 4 ? [1, scale.length, 1, 1] : [1, scale.length];
        const s = g.floats(`${layer.name}/scale`, Float32Array.from(scale), dims);
        const t = g.floats(`${layer.name}/shift`, Float32Array.from(shift), dims);
        set(g.node('Add', [g.node('Mul', [v.name, s]), t]), v.rank);
        break;
      }
      case 'Activation': {
        const v = inputOf(layer);
        set(activation(g, v.name, cfg.activation, layer), v.rank);
        break;
      }
      case 'ReLU': {
        if (cfg.maxValue != null) fail(layer, 'a capped ReLU is not supported');
        const v = inputOf(layer);
        set(g.node('Relu', [v.name]), v.rank);
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        checkChannelsLast(layer);
        const x = need4(inputOf(layer));
        const pool = pair(cfg.poolSize, 2);
        const strides = pair(cfg.strides ?? cfg.poolSize, 2);
        const pads = convPads(layer, pool, strides);
        if (cls === 'AveragePooling2D' && pads.some((p) => p > 0))
          fail(layer, 'average pooling with "same" padding is not supported');
        const op = cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
        set(g.node(op, [x], [ints('kernel_shape', pool), ints('strides', strides), ints('pads', pads)]));
        break;
      }
      case 'UpSampling2D': {
        checkChannelsLast(layer);
        const x = need4(inputOf(layer));
        const size = pair(cfg.size, 2);
        const scales = g.floats(`${layer.name}/scales`, Float32Array.from([1, 1, size[0], size[1]]), [4]);
        // tfjs resizes with alignCorners = halfPixelCenters = false: ONNX's "asymmetric" mapping.
        const attrs =
          cfg.interpolation === 'bilinear'
            ? [str('mode', 'linear'), str('coordinate_transformation_mode', 'asymmetric')]
            : [
                str('mode', 'nearest'),
                str('coordinate_transformation_mode', 'asymmetric'),
                str('nearest_mode', 'floor'),
              ];
        set(g.node('Resize', [x, '', scales], attrs));
        break;
      }
      case 'Concatenate': {
        const vs = inputs.map((_, i) => inputOf(layer, i));
        const rank = vs[0]!.rank;
        const axis = Number(cfg.axis ?? -1);
        const onnxAxis =
          rank === 4
            ? ({ [-1]: 1, 3: 1, 1: 2, 2: 3 } as Record<number, number>)[axis]
            : axis === -1 || axis === 1
              ? 1
              : undefined;
        if (onnxAxis === undefined || vs.some((v) => v.rank !== rank))
          fail(layer, `concatenation over axis ${axis}`);
        set(
          g.node(
            'Concat',
            vs.map((v) => v.name),
            [int('axis', onnxAxis)],
          ),
          rank,
        );
        break;
      }
      case 'Add':
      case 'Multiply':
      case 'Average': {
        const vs = inputs.map((_, i) => inputOf(layer, i));
        if (vs.some((v) => v.rank !== vs[0]!.rank)) fail(layer, 'inputs of different ranks');
        const names = vs.map((v) => v.name);
        // Average: an ensemble's members (arch/ensemble.ts), one Mean node over their maps.
        const y =
          cls === 'Average'
            ? g.node('Mean', names)
            : names.slice(1).reduce((acc, n) => g.node(cls === 'Add' ? 'Add' : 'Mul', [acc, n]), names[0]!);
        set(y, vs[0]!.rank);
        break;
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        checkChannelsLast(layer);
        if (cfg.keepDims) fail(layer, 'keepDims is not supported');
        const x = need4(inputOf(layer));
        const op = cls === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool';
        set(g.node('Flatten', [g.node(op, [x])], [int('axis', 1)]), 2);
        break;
      }
      case 'Reshape': {
        const v = inputOf(layer);
        const target = (cfg.targetShape as number[]) ?? [];
        // [batch, C] → [batch, 1, 1, C] (the squeeze-excitation gate): NCHW [batch, C, 1, 1].
        if (v.rank !== 2 || target.length !== 3 || target[0] !== 1 || target[1] !== 1)
          fail(layer, `reshape to ${JSON.stringify(target)} is not supported`);
        set(g.node('Reshape', [v.name, g.int64s(`${layer.name}/shape`, [0, target[2]!, 1, 1])]));
        break;
      }
      default:
        fail(layer, 'layer type not supported by the ONNX exporter');
    }
  }

  const last = values.get(outputLayer.name);
  if (!last || last.rank !== 4) throw new OnnxExportError(`model ${model.name}: the output must be an image`);
  g.node('Transpose', [last.name], [ints('perm', [0, 2, 3, 1])], ONNX_OUTPUT);

  const dims = (shape: (number | null)[]): Proto.ITensorShapeProto => ({
    dim: shape.map((d) => (d === null ? { dimParam: 'batch' } : { dimValue: d })),
  });
  const io = (name: string, shape: (number | null)[]): Proto.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: dims(shape) } },
  });
  const modelProto = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: opts.producer ?? 'tractus',
    graph: {
      name: model.name,
      node: g.nodes,
      initializer: g.initializers,
      input: [io(ONNX_INPUT, model.inputs[0]!.shape)],
      output: [io(ONNX_OUTPUT, model.outputs[0]!.shape)],
    },
  });
  return onnx.ModelProto.encode(modelProto).finish();
}
