/**
 * Timing of ONNX Runtime alone and of the segmentation pipeline, shared by onnx.bench.ts (which runs from
 * the TypeScript sources) and pipeline-driver.ts (which runs the same rounds from the built bundle).
 */
import path from 'node:path';
import type { BatchPredictor } from '../../main/model/infer';
import { ONNX_FILE } from '../../main/model/onnx/names';
import { createOnnxSession, onnxPredictor, sessionInputShape } from '../../main/model/onnx/runtime';
import {
  defaultInferenceWorkers,
  startInferencePool,
  type InferencePool,
} from '../../main/model/parallel/infer-pool';
import { segmentInput } from '../../main/services/segment';

export const BATCH = 4;

export interface Times {
  /** Milliseconds (or ms per slice) of wall time. */
  wall: number;
  /** The same in CPU time, this process's every thread. */
  cpu: number;
}

/** Milliseconds of wall time and of CPU time (this process, every thread) `work` takes. */
export async function timed(work: () => Promise<unknown>): Promise<Times> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const c = process.cpuUsage(c0);
  return { wall: performance.now() - t0, cpu: (c.user + c.system) / 1000 };
}

const testInput = (perImage: number) =>
  Float32Array.from({ length: BATCH * perImage }, (_, k) => (Math.sin(k * 0.37) + 1) / 2);

/** ms per slice (wall, CPU) of `slices` slices in batches of BATCH (after one warm-up batch). */
export async function perSliceTimes(
  predict: BatchPredictor,
  perImage: number,
  slices: number,
): Promise<Times> {
  const x = testInput(perImage);
  await predict(x.slice(), BATCH);
  const done = Math.ceil(slices / BATCH) * BATCH;
  const t = await timed(async () => {
    for (let d = 0; d < slices; d += BATCH) await predict(x.slice(), BATCH);
  });
  return { wall: t.wall / done, cpu: t.cpu / done };
}

/** ms per slice (wall, CPU) of `slices` slices in batches of BATCH spread over a pool, size + 1 in flight. */
async function poolPerSliceTimes(pool: InferencePool, perImage: number, slices: number): Promise<Times> {
  const x = testInput(perImage);
  await Promise.all(Array.from({ length: pool.size }, () => pool.predict(x.slice(), BATCH)));
  const done = Math.ceil(slices / BATCH) * BATCH;
  const t = await timed(async () => {
    const running: Array<Promise<unknown>> = [];
    for (let d = 0; d < slices; d += BATCH) {
      running.push(pool.predict(x.slice(), BATCH));
      if (running.length > pool.size) await running.shift();
    }
    await Promise.all(running);
  });
  return { wall: t.wall / done, cpu: t.cpu / done };
}

/**
 * ONNX Runtime alone on a model folder's model.onnx, the pipeline rows' yardstick; its input shape is read
 * from the file (no tfjs model loaded for it).
 */
export async function onnxAlone(modelDir: string) {
  const file = path.join(modelDir, ONNX_FILE);
  const session = await createOnnxSession(file);
  const shape = sessionInputShape(session, file);
  return {
    session,
    alone: onnxPredictor(session, shape),
    perImage: shape.height * shape.width * shape.channels,
  };
}

/** One round of pipelineRounds, ms per slice. */
export interface PipelineRound {
  /** ONNX Runtime alone on model.onnx, 144 slices, batch BATCH. */
  alone: Times;
  /** The same on the pipeline's workers (one-thread sessions on alternate batches), if it has several. */
  onWorkers: Times | undefined;
  /** (time for the 144-slice scan − time for the 1-slice scan) / 143. */
  marginal: Times;
  /** (time for the 288-slice scan − time for the 144-slice one) / 144. */
  warm: Times;
  /** The whole 144-slice scan, ms. */
  all: number;
}

export interface PipelineRoundsOptions {
  modelDir: string;
  rounds: number;
  /** Kaggle-layout scans of 1, 144 and 288 slices. */
  scans: readonly [string, string, string];
}

/**
 * segmentInput (what `tractus segment` runs) in this process on a 1-, a 144- and a 288-slice scan, and
 * ONNX Runtime alone, `rounds` times in alternating order, so a drift in the host's load favours neither
 * side. Both scans get the workers a 144-slice scan gets by default (a 1-slice input would otherwise run on
 * this thread and the workers' start-up, a cost per run, would be counted per slice); each run starts
 * fresh workers, so (288 − 144) is the cost once warm, as in the app, which keeps its workers.
 */
export async function pipelineRounds(opts: PipelineRoundsOptions): Promise<PipelineRound[]> {
  const { modelDir, rounds, scans } = opts;
  const [one, all, twice] = scans;
  const workers = defaultInferenceWorkers('onnxruntime');
  const segment = (root: string) =>
    timed(() =>
      segmentInput({ input: root, out: `${root}-out`, modelDir, backend: 'onnx', force: true, workers }),
    );
  const pool =
    workers > 1 ? await startInferencePool({ modelDir, backend: 'onnxruntime', workers }) : undefined;
  const { session, alone, perImage } = await onnxAlone(modelDir);
  const yardsticks = async () => ({
    a: await perSliceTimes(alone, perImage, 144),
    onWorkers: pool && (await poolPerSliceTimes(pool, perImage, 144)),
  });
  const runs: PipelineRound[] = [];
  try {
    await segment(one); // warm-up: modules, first session
    for (let r = 0; r < rounds; r++) {
      const first = r % 2 === 0 ? await yardsticks() : undefined;
      const t1 = await segment(one);
      const t144 = await segment(all);
      const t288 = await segment(twice);
      const { a, onWorkers } = first ?? (await yardsticks());
      runs.push({
        alone: a,
        onWorkers,
        marginal: { wall: (t144.wall - t1.wall) / 143, cpu: (t144.cpu - t1.cpu) / 143 },
        warm: { wall: (t288.wall - t144.wall) / 144, cpu: (t288.cpu - t144.cpu) / 144 },
        all: t144.wall,
      });
    }
  } finally {
    await session.session.release();
    await pool?.close();
  }
  return runs;
}
