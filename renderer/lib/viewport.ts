/**
 * Where the image sits on the canvas: a uniform scale and an offset. Converts between canvas pixels and
 * image coordinates (pixel corners at integers) and supports fit, zoom about a point, and pan.
 */
export interface Viewport {
  scale: number;
  offsetX: number;
  offsetY: number;
}

export function fitViewport(
  imageW: number,
  imageH: number,
  canvasW: number,
  canvasH: number,
  margin = 0.96,
): Viewport {
  const scale = Math.min(canvasW / imageW, canvasH / imageH) * margin;
  return { scale, offsetX: (canvasW - imageW * scale) / 2, offsetY: (canvasH - imageH * scale) / 2 };
}

export function canvasToImage(v: Viewport, cx: number, cy: number): [number, number] {
  return [(cx - v.offsetX) / v.scale, (cy - v.offsetY) / v.scale];
}

export function imageToCanvas(v: Viewport, ix: number, iy: number): [number, number] {
  return [ix * v.scale + v.offsetX, iy * v.scale + v.offsetY];
}

/** Zoom by `factor` keeping the image point under canvas point (cx, cy) fixed. */
export function zoomAt(v: Viewport, cx: number, cy: number, factor: number, min = 0.05, max = 64): Viewport {
  const scale = Math.min(max, Math.max(min, v.scale * factor));
  const [ix, iy] = canvasToImage(v, cx, cy);
  return { scale, offsetX: cx - ix * scale, offsetY: cy - iy * scale };
}

export function pan(v: Viewport, dx: number, dy: number): Viewport {
  return { ...v, offsetX: v.offsetX + dx, offsetY: v.offsetY + dy };
}

/** Position of a pixel centre in millimetres from the image's top-left corner; null without spacing. */
export function pixelToMm(
  ix: number,
  iy: number,
  spacing: [row: number, column: number] | null,
): [x: number, y: number] | null {
  if (!spacing) return null;
  return [(Math.floor(ix) + 0.5) * spacing[1], (Math.floor(iy) + 0.5) * spacing[0]];
}
