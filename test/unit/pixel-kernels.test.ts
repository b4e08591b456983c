import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PixelKernels, type SampleKind } from '../../main/kernels/pixels';
import { PIXELS_C_SHA256 } from '../../main/kernels/pixels-wasm';

const KERNELS_C = path.join(__dirname, '..', '..', 'main', 'kernels', 'pixels.c');

/** Deterministic values in [0, 1). */
const noise = (n: number, seed: number) =>
  Float64Array.from({ length: n }, (_, k) =>
    Math.abs((Math.sin(k * 12.9898 + seed * 78.233) * 43758.5453) % 1),
  );

/**
 * The bilinear sample of a plane at output pixel (x, y) of an m-wide, mh-high grid, written out directly
 * (half-pixel centres, clamped, the upper neighbour's weight rounded to float32 as the kernels store it):
 * the four neighbours blended across columns, then down rows, in doubles, the result rounded to float32.
 */
function directBilinear(
  at: (x: number, y: number) => number,
  n: number,
  nh: number,
  m: number,
  mh: number,
  x: number,
  y: number,
): number {
  const pos = (i: number, from: number, to: number) => {
    const s = Math.min(from - 1, Math.max(0, ((i + 0.5) * from) / to - 0.5));
    const lo = Math.max(0, Math.min(from - 2, Math.floor(s)));
    return { lo, hi: Math.min(from - 1, lo + 1), w: from === 1 ? 0 : Math.fround(s - lo) };
  };
  const px = pos(x, n, m);
  const py = pos(y, nh, mh);
  const row = (r: number) => at(px.lo, r) + (at(px.hi, r) - at(px.lo, r)) * px.w;
  const top = row(py.lo);
  return Math.fround(top + (row(py.hi) - top) * py.w);
}

describe('pixel kernels (WebAssembly)', () => {
  it('are built from the pixels.c of this commit (`npm run build:kernels` after changing it)', () => {
    const sha = createHash('sha256').update(readFileSync(KERNELS_C)).digest('hex');
    expect(PIXELS_C_SHA256).toBe(sha);
  });

  it('resample each sample kind, through a level table or not, strided, exactly as the direct 2×2 form', () => {
    const k = new PixelKernels();
    const cases: Array<{ kind: SampleKind; levels: boolean }> = [
      { kind: 'f32', levels: false },
      { kind: 'f64', levels: false },
      { kind: 'u16', levels: true },
      { kind: 'u16', levels: false },
      { kind: 'u8', levels: true },
    ];
    for (const [i, { kind, levels }] of cases.entries()) {
      for (const [n, nh, m, mh] of [
        [7, 5, 13, 9],
        [13, 9, 7, 5],
        [1, 4, 3, 6],
        [6, 1, 2, 3],
      ] as const) {
        const channels = 3;
        const channel = 1;
        const count = n * nh * channels;
        const raw = noise(count, i * 10 + n);
        const data =
          kind === 'f32'
            ? Float32Array.from(raw)
            : kind === 'f64'
              ? raw
              : kind === 'u16'
                ? Uint16Array.from(raw, (v) => Math.floor(v * 4000))
                : Uint8Array.from(raw, (v) => Math.floor(v * 256));
        const table = levels ? Float32Array.from(noise(4096, i), (v) => v * 2 - 0.5) : undefined;
        const value = (x: number, y: number) => {
          const v = data[(y * n + x) * channels + channel]!;
          return table ? table[v]! : v;
        };
        const window = { x0: 1, x1: m, y0: 0, y1: mh - 1 };
        const [srcAt, levelsAt, dstAt, scratch] = k.layout([
          data.byteLength,
          table?.byteLength ?? 0,
          m * mh * 4,
          k.resampleScratchBytes(m, mh, m),
        ]);
        k.copyIn(data, srcAt!);
        if (table) k.copyIn(table, levelsAt!);
        k.f32(dstAt!, m * mh).fill(-7);
        k.resample(
          {
            ptr: srcAt!,
            kind,
            levels: table ? levelsAt : 0,
            width: n,
            height: nh,
            offset: channel,
            pixelStride: channels,
            rowStride: n * channels,
          },
          { ptr: dstAt!, kind: 'f32', width: m, height: mh, offset: 0, pixelStride: 1, rowStride: m },
          window,
          scratch!,
        );
        const out = k.f32(dstAt!, m * mh);
        for (let y = 0; y < mh; y++) {
          for (let x = 0; x < m; x++) {
            const inside = x >= window.x0 && x < window.x1 && y >= window.y0 && y < window.y1;
            const want = inside ? directBilinear(value, n, nh, m, mh, x, y) : -7;
            expect(out[y * m + x], `${kind} ${n}×${nh}→${m}×${mh} at (${x}, ${y})`).toBe(want);
          }
        }
      }
    }
  });

  it('count the levels of 8- and 16-bit samples (odd lengths too) and leave the bins zero once cleared', () => {
    const k = new PixelKernels();
    const samples: Array<Uint8Array | Uint16Array> = [
      Uint16Array.from(noise(1001, 1), (v) => Math.floor(v * 65536)),
      Uint16Array.from({ length: 4000 }, () => 7),
      Uint8Array.from(noise(999, 2), (v) => Math.floor(v * 256)),
    ];
    for (const data of samples) {
      let largest = 0;
      for (const v of data) largest = Math.max(largest, v);
      const want = new Uint32Array(largest + 1);
      for (const v of data) want[v]!++;
      const { max, hist } = k.countLevels(data);
      expect(max).toBe(want.length - 1);
      expect(hist).toEqual(want);
      k.clearLevels(max);
    }
    const again = k.countLevels(Uint8Array.of(3, 3, 1));
    expect(Array.from(again.hist)).toEqual([0, 1, 0, 2]);
  });

  it('grow their memory for a large piece of work and lay out the next one from the start again', () => {
    const k = new PixelKernels();
    const [big] = k.layout([48 << 20]);
    k.f32(big!, 12 << 20).fill(1);
    const [small] = k.layout([16]);
    expect(small).toBe(big);
    expect(k.f32(small!, 4)[3]).toBe(1);
  });
});
