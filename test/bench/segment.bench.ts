/**
 * Inference speed of the shipped model (models/default: compact U-Net, 256² input) on a 144-slice
 * 266×266 16-bit scan, the UW-Madison size: ms per slice including reading, 2.5D preprocessing,
 * letterboxing, post-processing at native size — `segmentScan` end to end — on each backend that
 * initialises here, plus the process's peak RSS. Target: ≤ 10 s per 144-slice scan on 2 cores.
 * The pure-JS cpu backend is ~25× slower than wasm, so it times 2 slices only. A 1×1-conv stand-in with
 * the same input/output shows the share of reading, pre- and post-processing.
 */
import * as tfl from '@tensorflow/tfjs-layers';
import type { Scan, SliceImage } from '../../main/core/types';
import { initBackend, type BackendName } from '../../main/model/backend/select';
import { segmentScan } from '../../main/model/infer';
import { DEFAULT_MODEL_DIR, loadModel } from '../../main/model/model-io';

const SIDE = 266;

function syntheticScan(slices: number): Scan {
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
    for (const batch of name === 'cpu' ? [4] : [1, 4, 8]) {
      const n = batch === 4 ? slices : Math.min(slices, 32);
      const t0 = performance.now();
      await segmentScan(syntheticScan(n), loaded, { batch });
      const ms = (performance.now() - t0) / n;
      out.push({
        name: `segment ${SIDE}² → 256² unet (${name}, batch ${batch}, 1 worker)`,
        value: Number(ms.toFixed(1)),
        unit: 'ms/slice',
        note: `${n} slices; ${((ms * 144) / 1000).toFixed(1)} s per 144-slice scan (target ≤ 10 s)`,
      });
    }
    if (name !== 'cpu') {
      // Same card, network replaced by one 1×1 conv: what remains is reading, 2.5D, letterbox, post-processing.
      const input = tfl.input({ shape: [256, 256, 3] });
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
  out.push({
    name: 'segment with 2 workers',
    value: NaN,
    unit: 'ms/slice',
    note: 'not measured: main/model/parallel has no inference pool yet',
  });
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
