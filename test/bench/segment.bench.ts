/**
 * Inference speed of the shipped model (models/default; input size from its card) on a 144-slice
 * 266×266 16-bit scan, the UW-Madison size: ms per slice including reading, 2.5D preprocessing,
 * letterboxing, post-processing at native size — `segmentScan` end to end — on each backend that
 * initialises here, plus the process's peak RSS. Target: ≤ 10 s per 144-slice scan on 2 cores.
 * The pure-JS cpu backend is ~25× slower than wasm, so it times 2 slices only. A 1×1-conv stand-in with
 * the same input/output shows the share of reading, pre- and post-processing.
 *
 * Workers 1 vs 2 (wasm, batch 4, the pipeline `tractus segment` uses): the machine is shared, so besides
 * wall time each run reports a CPU-time estimate of the wall time on an otherwise idle machine:
 * max(busiest thread's CPU time, process CPU time / cores), from /proc/self/task/<tid>/stat.
 */
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import * as tfl from '@tensorflow/tfjs-layers';
import type { Scan, SliceImage } from '../../main/core/types';
import { initBackend, type BackendName } from '../../main/model/backend/select';
import { segmentScan } from '../../main/model/infer';
import { DEFAULT_MODEL_DIR, loadModel, type LoadedModel } from '../../main/model/model-io';
import { startInferencePool } from '../../main/model/parallel/infer-pool';

const SIDE = 266;

export function syntheticScan(slices: number): Scan {
  return {
    id: 'case0_day0',
    patientId: 'case0',
    studyId: 'case0_day0',
    day: 'day0',
    width: SIDE,
    height: SIDE,
    pixelSpacing: [1.5, 1.5],
    sliceThickness: 3,
    intensity: 'uint16',
    source: 'uwmgi',
    slices: Array.from({ length: slices }, (_, i) => ({
      id: `case0_day0_slice_${String(i + 1).padStart(4, '0')}`,
      number: i + 1,
      width: SIDE,
      height: SIDE,
    })),
    readSlice: async (i: number): Promise<SliceImage> => {
      const data = new Uint16Array(SIDE * SIDE);
      let s = i * 7919 + 1;
      for (let p = 0; p < data.length; p++) {
        s = (s * 1103515245 + 12345) % 2 ** 31;
        const x = p % SIDE;
        const y = (p - x) / SIDE;
        data[p] = Math.max(0, 800 - Math.hypot(x - 133, y - 133) * 5) + (s % 200);
      }
      return { width: SIDE, height: SIDE, data };
    },
  };
}

type Row = { name: string; value: number; unit: string; note?: string };

/** /proc reports thread times in USER_HZ, which Linux fixes at 100 per second for user space. */
const USER_HZ = 100;

/** CPU milliseconds (user + system) of every thread of this process, by thread id. */
function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the parenthesised thread name: state is field 3, utime 14 and stime 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ);
    } catch {
      // the thread ended between listing and reading
    }
  }
  return out;
}

interface Timing {
  wallMs: number;
  /** Whole process, all threads. */
  cpuMs: number;
  busiestThreadMs: number;
  /** Wall time expected on an idle machine with this many cores. */
  idleEstimateMs: number;
}

async function timed(fn: () => Promise<unknown>): Promise<Timing> {
  const before = threadCpuMs();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  let busiestThreadMs = 0;
  for (const [tid, ms] of threadCpuMs())
    busiestThreadMs = Math.max(busiestThreadMs, ms - (before.get(tid) ?? 0));
  const idleEstimateMs = Math.max(busiestThreadMs, cpuMs / os.availableParallelism());
  return { wallMs, cpuMs, busiestThreadMs, idleEstimateMs };
}

/** 144 slices, batch 4, on 1 thread or spread over `workers` worker threads: wall and CPU-based rows. */
/** The network's input side, as the card says (the shipped model's, so rows name what was measured). */
function inputSide(loaded: LoadedModel): number {
  return loaded.card.input.size.width;
}

async function workerRows(loaded: LoadedModel, workers: number, slices: number): Promise<Row[]> {
  const scan = syntheticScan(slices);
  const label = `segment ${SIDE}² → ${inputSide(loaded)}² ${loaded.card.architecture.name} (wasm, batch 4, ${workers} worker${workers > 1 ? 's' : ''})`;
  const rows: Row[] = [];
  let run: () => Promise<unknown> = () => segmentScan(scan, loaded, { batch: 4 });
  let close = async () => {};
  if (workers > 1) {
    const start = await timed(async () => {
      const pool = await startInferencePool({ modelDir: loaded.dir, backend: 'wasm', workers });
      await segmentScan(syntheticScan(2 * workers), loaded, {
        batch: 1,
        predict: pool.predict,
        inFlight: workers,
      });
      run = () => segmentScan(scan, loaded, { batch: 4, predict: pool.predict, inFlight: workers + 1 });
      close = () => pool.close();
    });
    rows.push({
      name: `segment: start ${workers} inference workers + warm-up`,
      value: Math.round(start.wallMs),
      unit: 'ms',
      note: `CPU ${Math.round(start.cpuMs)} ms (loading tfjs and the model in each worker)`,
    });
  }
  try {
    const t = await timed(run);
    rows.push(
      {
        name: label,
        value: Number((t.wallMs / slices).toFixed(1)),
        unit: 'ms/slice',
        note:
          `${slices} slices, wall time on the shared machine (load ${os.loadavg()[0]!.toFixed(1)}, ` +
          `${(t.cpuMs / t.wallMs).toFixed(2)} cores obtained): ${((t.wallMs / slices) * 0.144).toFixed(1)} s per 144-slice scan`,
      },
      {
        name: `${label} (by CPU time)`,
        value: Number((t.idleEstimateMs / slices).toFixed(1)),
        unit: 'ms/slice',
        note:
          `idle-machine estimate: ${((t.idleEstimateMs / slices) * 0.144).toFixed(1)} s per 144-slice scan; ` +
          `process CPU ${(t.cpuMs / slices).toFixed(0)} ms/slice, busiest thread ${(t.busiestThreadMs / slices).toFixed(0)} ms/slice`,
      },
    );
  } finally {
    await close();
  }
  return rows;
}

export async function bench(): Promise<Row[]> {
  const out: Row[] = [];
  const plan: Array<[BackendName, number]> = [
    ['tensorflow', 144],
    ['wasm', 144],
    ['cpu', 2],
  ];
  for (const [name, slices] of plan) {
    let info;
    try {
      info = await initBackend(name);
    } catch {
      continue;
    }
    if (info.name !== name) continue; // fell back: measured under its own name
    const loaded = await loadModel(DEFAULT_MODEL_DIR);
    await segmentScan(syntheticScan(4), loaded, { batch: 4 }); // warm-up: kernel set-up, first allocations
    // wasm batch 4 over the whole scan is measured below, with 1 and 2 workers.
    for (const batch of name === 'cpu' ? [4] : name === 'wasm' ? [1, 8] : [1, 4, 8]) {
      const n = batch === 4 ? slices : Math.min(slices, 32);
      const t0 = performance.now();
      await segmentScan(syntheticScan(n), loaded, { batch });
      const ms = (performance.now() - t0) / n;
      out.push({
        name: `segment ${SIDE}² → ${inputSide(loaded)}² ${loaded.card.architecture.name} (${name}, batch ${batch}, 1 worker)`,
        value: Number(ms.toFixed(1)),
        unit: 'ms/slice',
        note: `${n} slices; ${((ms * 144) / 1000).toFixed(1)} s per 144-slice scan (target ≤ 10 s)`,
      });
    }
    if (name !== 'cpu') {
      // Same card, network replaced by one 1×1 conv: what remains is reading, 2.5D, letterbox, post-processing.
      const input = tfl.input({ shape: [loaded.card.input.size.height, loaded.card.input.size.width, 3] });
      const conv = tfl.layers.conv2d({ filters: 3, kernelSize: 1, activation: 'sigmoid' });
      const trivial = tfl.model({ inputs: input, outputs: conv.apply(input) as tfl.SymbolicTensor });
      const t0 = performance.now();
      await segmentScan(syntheticScan(slices), { model: trivial, card: loaded.card }, { batch: 4 });
      const ms = (performance.now() - t0) / slices;
      out.push({
        name: `segment pre/post-processing only (${name}, 1×1-conv stand-in)`,
        value: Number(ms.toFixed(1)),
        unit: 'ms/slice',
      });
      trivial.dispose();
    }
    loaded.model.dispose();
  }
  // Workers 1 vs 2 on wasm, measured last so the rows above do not share the machine with idle workers.
  if ((await initBackend('wasm')).name === 'wasm') {
    const loaded = await loadModel(DEFAULT_MODEL_DIR);
    for (const workers of [1, 2]) out.push(...(await workerRows(loaded, workers, 144)));
    loaded.model.dispose();
  }
  out.push({
    name: 'segment peak RSS',
    value: Math.round(process.resourceUsage().maxRSS / 1024),
    unit: 'MiB',
  });
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await bench()) console.log(JSON.stringify(row));
}
