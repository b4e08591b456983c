import { describe, expect, it } from 'vitest';
import { CocoSegmEvaluator, IOU_THRESHOLDS, RECALL_THRESHOLDS } from '../../main/metrics/coco-eval';

/** Masks are names; the IoU table is written by hand for each case. */
function evaluator(table: Record<string, number>) {
  return new CocoSegmEvaluator<string>([1, 2], (dts, gts, crowd) =>
    dts.map((dt) => gts.map((gt, g) => table[`${dt}|${gt}${crowd[g] ? '|crowd' : ''}`] ?? 0)),
  );
}
const gt = (mask: string, area = 5000, iscrowd = false) => ({ mask, area, iscrowd });
const dt = (mask: string, score: number, area = 5000) => ({ mask, score, area });

describe('COCO segm AP (pycocotools semantics)', () => {
  it('uses numpy linspace thresholds: .50:.05:.95 and 101 recall points', () => {
    expect(IOU_THRESHOLDS).toHaveLength(10);
    expect(IOU_THRESHOLDS[0]).toBe(0.5);
    expect(IOU_THRESHOLDS[5]).toBe(0.75);
    expect(IOU_THRESHOLDS[9]).toBe(0.95);
    expect(RECALL_THRESHOLDS).toHaveLength(101);
    expect(RECALL_THRESHOLDS[100]).toBe(1);
  });

  it('one perfect-enough match at IoU 0.8 passes 7 of 10 thresholds', () => {
    const e = evaluator({ 'd|g': 0.8 });
    e.add(1, 1, [gt('g')], [dt('d', 0.9)]);
    const s = e.summarize();
    expect(s.AP).toBeCloseTo(0.7, 12);
    expect(s.AP50).toBeCloseTo(1, 12);
    expect(s.AP75).toBeCloseTo(1, 12);
    expect(s.perCategory.get(1)).toBeCloseTo(0.7, 12);
    expect(s.perCategory.get(2)).toBeNull(); // no ground truth in category 2
    expect(s.APm).toBeCloseTo(0.7, 12); // area 5000 is medium (1024..9216)
    expect(s.APs).toBeNull();
    expect(s.APl).toBeNull();
  });

  it('a hit, a false positive and a miss: precision 1 up to recall 0.5', () => {
    const e = evaluator({ 'd1|g1': 0.9 });
    e.add(1, 1, [gt('g1')], [dt('d1', 0.9)]);
    e.add(2, 1, [], [dt('d2', 0.8)]);
    e.add(3, 1, [gt('g3')], []);
    const s = e.summarize();
    // rc = [.5, .5], pr = [1, .5]; recall points 0.00..0.50 (51 of 101) get precision 1; IoU .9 passes 9 of 10.
    expect(s.AP50).toBeCloseTo(51 / 101, 12);
    expect(s.AP).toBeCloseTo((9 / 10) * (51 / 101), 12);
  });

  it('breaks score ties by ascending image id, whatever order images were added in', () => {
    // Equal scores: image 1 is a false positive, image 2 a hit. In id order: rc [0, 1], pr [0, .5] → .5 everywhere.
    const e = evaluator({ 'b|g': 1 });
    e.add(2, 1, [gt('g')], [dt('b', 0.5)]);
    e.add(1, 1, [], [dt('a', 0.5)]);
    expect(e.summarize().AP50).toBeCloseTo(0.5, 12);
    // A higher score on the hit puts it first: precision 1 at every recall point.
    const f = evaluator({ 'b|g': 1 });
    f.add(2, 1, [gt('g')], [dt('b', 0.6)]);
    f.add(1, 1, [], [dt('a', 0.5)]);
    expect(f.summarize().AP50).toBeCloseTo(1, 12); // tp / (tp + fp + eps), as pycocotools
  });

  it('greedy matching: the higher-scored detection takes the ground truth, the other is a false positive', () => {
    const e = evaluator({ 'lo|g': 0.95, 'hi|g': 0.6 });
    e.add(1, 1, [gt('g')], [dt('lo', 0.2), dt('hi', 0.9)]);
    const s = e.summarize();
    // At t ≤ .6: 'hi' matches (tp), 'lo' fp → pr [1, .5], rc [1, 1] → precision 1. At t > .6: hi fp, lo tp with
    // IoU .95 ≥ t (t ≤ .95) → rc [0, 1], pr [0, .5] → envelope .5.
    const expected = (3 * 1 + 7 * 0.5) / 10;
    expect(s.AP).toBeCloseTo(expected, 12);
  });

  it('crowd ground truth is ignored, and so are detections matched to it', () => {
    const e = evaluator({ 'd|c|crowd': 0.9, 'd2|g': 0.9 });
    e.add(1, 1, [gt('c', 5000, true)], [dt('d', 0.9)]);
    e.add(2, 1, [gt('g')], [dt('d2', 0.5)]);
    // d matches the crowd region → ignored, so it is no false positive ahead of d2.
    expect(e.summarize().AP50).toBeCloseTo(1, 12);
    const only = evaluator({ 'd|c|crowd': 0.9 });
    only.add(1, 1, [gt('c', 5000, true)], [dt('d', 0.9)]);
    expect(only.summarize().AP).toBeNull(); // no counted ground truth anywhere → -1 → null
  });

  it('area ranges: unmatched detections outside the range are ignored, ground truths outside do not count', () => {
    const e = evaluator({ 'd|g': 0.9 });
    e.add(1, 1, [gt('g', 500)], [dt('d', 0.9, 500)]);
    e.add(2, 1, [], [dt('big', 0.95, 20000)]);
    const s = e.summarize();
    expect(s.APs).toBeCloseTo(0.9, 12); // the large false positive is outside 'small' → ignored there
    expect(s.AP).toBeCloseTo(0.9 * 0.5, 12); // in 'all' it ranks first: pr [0, .5] → .5 after the envelope
    expect(s.APl).toBeNull();
  });

  it('keeps at most 100 detections per image and category, the highest scored', () => {
    const table: Record<string, number> = { 'hit|g': 1 };
    const e = evaluator(table);
    const dts = Array.from({ length: 100 }, (_, i) => dt(`fp${i}`, 0.5 + i / 1000));
    dts.push(dt('hit', 0.1)); // 101st by score: dropped
    e.add(1, 1, [gt('g')], dts);
    expect(e.summarize().AP50).toBe(0);
  });

  it('refuses the same image and category twice', () => {
    const e = evaluator({});
    e.add(1, 1, [gt('g')], []);
    expect(() => e.add(1, 1, [gt('g')], [])).toThrow(/twice/);
  });
});
