/**
 * What `tractus segment` writes for each organ of each slice — the mask's Kaggle RLE, its COCO RLE and its
 * area — from one pass of the WebAssembly kernels over it (see kaggle-rle.ts and coco-rle.ts for the
 * formats).
 */
import type { BinaryMask } from '../core/types';
import { pixelKernels } from '../kernels/pixels';
import { cocoRleOf, type CocoRle } from './coco-rle';
import { kaggleRleText } from './kaggle-rle';

export function encodeMaskRles(mask: BinaryMask): { kaggle: string; coco: CocoRle; area: number } {
  const runs = pixelKernels().maskRuns(mask.data, mask.width, mask.height, true);
  return {
    kaggle: kaggleRleText(runs.rows),
    coco: cocoRleOf(mask, runs.cols),
    area: runs.area,
  };
}
