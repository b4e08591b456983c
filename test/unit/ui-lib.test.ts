/** Pure editing and display logic of the renderer, against hand-computed values. */
import { describe, expect, it } from 'vitest';
import { boundary, fillPolygon, floodFill, paintDisc, paintSegment } from '../../renderer/lib/mask-edit';
import { interpolateMasks } from '../../renderer/lib/interpolate';
import { canvasToImage, fitViewport, imageToCanvas, pixelToMm, zoomAt } from '../../renderer/lib/viewport';
import { dragWindow, grey } from '../../renderer/lib/window-level';

const blank = (w: number, h: number) => ({ width: w, height: h, data: new Uint8Array(w * h) });
const count = (d: Uint8Array) => d.reduce((n, v) => n + v, 0);

function square(w: number, x0: number, y0: number, size: number) {
  const m = blank(w, w);
  for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) m.data[y * w + x] = 1;
  return m;
}

describe('brush', () => {
  it('a radius-1 disc at a pixel centre covers that pixel and its 4 neighbours', () => {
    const m = blank(10, 10);
    expect(paintDisc(m, 5.5, 5.5, 1, 1)).toBe(5);
    expect([...m.data.keys()].filter((i) => m.data[i])).toEqual([45, 54, 55, 56, 65]);
  });
  it('erasing sets pixels back and reports only changed ones; discs clip at the image edge', () => {
    const m = blank(10, 10);
    paintDisc(m, 0.5, 0.5, 1, 1);
    expect(count(m.data)).toBe(3);
    expect(paintDisc(m, 0.5, 0.5, 1, 0)).toBe(3);
    expect(count(m.data)).toBe(0);
  });
  it('a fast stroke leaves no gap: a 1-px-radius line from x=1 to x=8 covers the whole row', () => {
    const m = blank(10, 3);
    paintSegment(m, 1.5, 1.5, 8.5, 1.5, 1, 1);
    for (let x = 1; x <= 8; x++) expect(m.data[10 + x]).toBe(1);
  });
});

describe('flood fill and polygon', () => {
  it('fills the inside of a closed ring and nothing outside', () => {
    // 7×7 ring of ones around a 3×3 hole at (2..4, 2..4)
    const m = square(7, 1, 1, 5);
    for (let y = 2; y <= 4; y++) for (let x = 2; x <= 4; x++) m.data[y * 7 + x] = 0;
    expect(floodFill(m, 3, 3, 1)).toBe(9);
    expect(count(m.data)).toBe(25);
  });
  it('erases an island by filling it with 0', () => {
    const m = square(8, 2, 2, 3);
    expect(floodFill(m, 3, 3, 0)).toBe(9);
    expect(count(m.data)).toBe(0);
  });
  it('a 4×4 square polygon on pixel corners covers 16 pixels', () => {
    const m = blank(10, 10);
    expect(
      fillPolygon(
        m,
        [
          [2, 2],
          [6, 2],
          [6, 6],
          [2, 6],
        ],
        1,
      ),
    ).toBe(16);
  });
  it('the boundary of a 3×3 block is its 8 outer pixels', () => {
    expect(count(boundary(square(5, 1, 1, 3)))).toBe(8);
  });
});

describe('shape-based interpolation', () => {
  it('half-way between a 2×2 and a 6×6 square (same centre) is a 4×4 square', () => {
    const [mid] = interpolateMasks(square(10, 4, 4, 2), square(10, 2, 2, 6), 1);
    expect(count(mid!)).toBe(16);
    expect(mid![3 * 10 + 3]).toBe(1);
    expect(mid![2 * 10 + 2]).toBe(0);
  });
});

describe('viewport and window/level', () => {
  it('fits a 100×50 image into 200×200 with 2× scale, centred', () => {
    const v = fitViewport(100, 50, 200, 200, 1);
    expect(v).toEqual({ scale: 2, offsetX: 0, offsetY: 50 });
    expect(canvasToImage(v, 100, 100)).toEqual([50, 25]);
    expect(imageToCanvas(v, 50, 25)).toEqual([100, 100]);
  });
  it('zooming keeps the point under the cursor fixed', () => {
    const v = zoomAt({ scale: 2, offsetX: 0, offsetY: 50 }, 40, 60, 3);
    expect(canvasToImage(v, 40, 60)).toEqual([20, 5]);
  });
  it('mm position of pixel (2, 3) with spacing 1.5 (rows) × 2 (columns) is its centre', () => {
    expect(pixelToMm(2.7, 3.1, [1.5, 2])).toEqual([5, 5.25]);
    expect(pixelToMm(1, 1, null)).toBeNull();
  });
  it('maps level ± width/2 to 0 and 255', () => {
    const wl = { level: 100, width: 50 };
    expect(grey(75, wl)).toBe(0);
    expect(grey(125, wl)).toBe(255);
    expect(grey(100, wl)).toBe(128);
    expect(dragWindow(wl, 10, -4, 2)).toEqual({ level: 92, width: 70 });
  });
});
