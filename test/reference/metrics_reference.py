#!/usr/bin/env python3
"""Independent reference for Tractus' evaluation and conversion (main/metrics, main/services/{evaluate,convert}).

Written with numpy/scipy only and sharing no code with the TypeScript: its own RLE readers and writers,
dense-mask IoU, scipy's exact Euclidean distance transform, and COCO AP re-implemented from the COCOeval
algorithm (pycocotools is not installable here).

Usage:
  metrics_reference.py perturb --gt WIDE.csv --out DIR [--seed N] [--scans caseA_dayB,...]
      Writes DIR/gt.csv (the chosen scans), DIR/gt.coco.json (the same as a COCO dataset, image ids 1.. in row
      order), DIR/pred.csv (Kaggle submission: dilated, eroded, shifted, dropped and false-positive masks) and
      DIR/pred.results.json (COCO results: the same masks plus duplicates, random scores with ties).
  metrics_reference.py evaluate --gt FILE --pred FILE
      FILE: a wide CSV (eval_subset.csv style) or a COCO dataset as ground truth; a Kaggle CSV (long or wide)
      or a COCO results list as prediction. Prints one JSON object shaped like `tractus evaluate --json`.
  metrics_reference.py masks FILE [--sizes FILE]
      Prints {slice id: {organ: [area, sha1 of the row-major mask bytes]}} for a CSV or COCO dataset; a long
      CSV takes slice sizes from --sizes (a wide CSV or COCO dataset).

Conventions (the same ones Tractus documents): the ground truth defines the slice set; prediction slices not
in it are ignored; a Kaggle prediction has score 1.0; a CSV ground truth's image ids are 1.. in row order.
"""
import argparse
import csv
import hashlib
import json
import math
import os
import re
import sys

import numpy as np
from scipy import ndimage

ORGANS = ['large_bowel', 'small_bowel', 'stomach']
ID_RE = re.compile(r'^(case\d+_day\d+)_slice_(\d+)$')
PATH_SCAN_RE = re.compile(r'(case\d+)_(day\d+)')
PATH_SLICE_RE = re.compile(r'slice_(\d+)')

csv.field_size_limit(1 << 30)


# ---------------------------------------------------------------- run-length encodings

def kaggle_decode(rle, height, width):
    flat = np.zeros(height * width, dtype=bool)
    values = [int(v) for v in rle.split()]
    for start, length in zip(values[0::2], values[1::2]):
        flat[start - 1:start - 1 + length] = True
    return flat.reshape(height, width)


def kaggle_encode(mask):
    flat = np.concatenate([[0], mask.reshape(-1).astype(np.int8), [0]])
    edges = np.flatnonzero(flat[1:] != flat[:-1])
    starts, ends = edges[0::2], edges[1::2]
    return ' '.join(f'{s + 1} {e - s}' for s, e in zip(starts, ends))


def coco_runs(mask):
    """Column-major run lengths, first run background."""
    flat = mask.T.reshape(-1).astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], change, [flat.size]])
    runs = list(np.diff(bounds))
    if flat.size and flat[0] == 1:
        runs = [0] + runs
    return [int(r) for r in runs]


def coco_string(runs):
    out = []
    for i, x in enumerate(runs):
        if i > 2:
            x -= runs[i - 2]
        while True:
            c = x & 0x1F
            x >>= 5
            more = (x != -1) if (c & 0x10) else (x != 0)
            out.append(chr((c | 0x20 if more else c) + 48))
            if not more:
                break
    return ''.join(out)


def coco_unstring(s):
    runs = []
    p = 0
    while p < len(s):
        x = 0
        k = 0
        while True:
            c = ord(s[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            p += 1
            k += 1
            if not c & 0x20:
                if c & 0x10:
                    x |= -1 << (5 * k)
                break
        if len(runs) > 2:
            x += runs[-2]
        runs.append(x)
    return runs


def coco_decode(seg, height, width):
    if isinstance(seg, str):  # "{'size': [h, w], 'counts': '...'}" as written by str(rle)
        m = re.match(r"^\{\s*'size'\s*:\s*\[\s*(\d+)\s*,\s*(\d+)\s*\]\s*,\s*'counts'\s*:\s*b?'(.*)'\s*\}$", seg.strip())
        seg = {'size': [int(m.group(1)), int(m.group(2))], 'counts': m.group(3).replace('\\\\', '\\')}
    if isinstance(seg, list):
        raise SystemExit('polygon segmentations are not supported by the reference')
    assert list(seg['size']) == [height, width], (seg['size'], height, width)
    runs = coco_unstring(seg['counts']) if isinstance(seg['counts'], str) else list(seg['counts'])
    flat = np.zeros(height * width, dtype=bool)
    pos = 0
    for i, r in enumerate(runs):
        if i % 2 == 1:
            flat[pos:pos + r] = True
        pos += r
    assert pos == height * width, 'RLE does not cover the image'
    return flat.reshape(width, height).T


# ---------------------------------------------------------------- reading

def slice_key(text):
    m = ID_RE.match(text)
    if m:
        return m.group(1), int(m.group(2)), text
    scan = PATH_SCAN_RE.search(text)
    sl = PATH_SLICE_RE.search(os.path.basename(text))
    if scan and sl:
        scan_id = f'{scan.group(1)}_{scan.group(2)}'
        return scan_id, int(sl.group(1)), f'{scan_id}_slice_{int(sl.group(1)):04d}'
    return text, 0, text


def read_csv(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def read_ground_truth(path):
    """-> images [{id, slice, scan, number, h, w}], annotations [{image, organ, mask, area, crowd}]"""
    images, anns = [], []
    if path.endswith('.csv'):
        for i, row in enumerate(read_csv(path)):
            scan, number, sid = slice_key(row['id'])
            h, w = int(row['height']), int(row['width'])
            images.append({'id': i + 1, 'slice': sid, 'scan': scan, 'number': number, 'h': h, 'w': w})
            for k, organ in enumerate(ORGANS):
                if row[organ].strip():
                    mask = kaggle_decode(row[organ], h, w)
                    anns.append({'image': i + 1, 'organ': k, 'mask': mask, 'area': int(mask.sum()), 'crowd': 0})
        return images, anns
    data = json.load(open(path))
    by_id = {}
    for im in data['images']:
        scan, number, sid = slice_key(im['file_name'])
        entry = {'id': im['id'], 'slice': sid, 'scan': scan, 'number': number, 'h': im['height'], 'w': im['width']}
        images.append(entry)
        by_id[im['id']] = entry
    for a in data['annotations']:
        im = by_id[a['image_id']]
        mask = coco_decode(a['segmentation'], im['h'], im['w'])
        area = a['area'] if 'area' in a else int(mask.sum())
        anns.append({'image': a['image_id'], 'organ': a['category_id'] - 1, 'mask': mask, 'area': area,
                     'crowd': int(a.get('iscrowd', 0))})
    return images, anns


def read_prediction(path, images):
    """-> detections [{image, organ, mask, area, score}] in file order, and the count of slices not in the GT."""
    by_slice = {im['slice']: im for im in images}
    by_id = {im['id']: im for im in images}
    dets, outside = [], set()
    if path.endswith('.csv'):
        for row in read_csv(path):
            sid = row['id'].strip()
            im = by_slice.get(sid)
            if im is None:
                outside.add(sid)
                continue
            pairs = [(row['class'], row.get('predicted', row.get('segmentation', '')))] if 'class' in row else \
                [(o, row[o]) for o in ORGANS]
            for organ, rle in pairs:
                if rle.strip():
                    mask = kaggle_decode(rle, im['h'], im['w'])
                    dets.append({'image': im['id'], 'organ': ORGANS.index(organ), 'mask': mask,
                                 'area': int(mask.sum()), 'score': 1.0})
        return dets, len(outside)
    for r in json.load(open(path)):
        im = by_id[r['image_id']]
        mask = coco_decode(r['segmentation'], im['h'], im['w'])
        dets.append({'image': im['id'], 'organ': r['category_id'] - 1, 'mask': mask, 'area': int(mask.sum()),
                     'score': float(r['score'])})
    return dets, 0


# ---------------------------------------------------------------- Dice and Hausdorff

def union_masks(items, images):
    """(image id, organ) -> OR of that organ's masks on the image."""
    by_id = {im['id']: im for im in images}
    out = {}
    for a in items:
        im = by_id[a['image']]
        key = (a['image'], a['organ'])
        out[key] = out.get(key, np.zeros((im['h'], im['w']), dtype=bool)) | a['mask']
    return out


def hausdorff(a, b):
    """Symmetric Hausdorff distance (voxels) between two non-empty boolean volumes, exact."""
    both = a | b
    box = tuple(slice(ix.min(), ix.max() + 1) for ix in np.nonzero(both))
    a, b = a[box], b[box]
    to_a = ndimage.distance_transform_edt(~a)
    to_b = ndimage.distance_transform_edt(~b)
    return max(to_a[b].max(), to_b[a].max())


def segmentation_scores(images, gt, dt):
    gt_masks = union_masks(gt, images)
    dt_masks = union_masks(dt, images)
    dice = {k: [] for k in range(3)}
    haus = {k: [] for k in range(3)}
    counts = {k: dict(pairs_scored=0, correct_empties=0, false_positive_slices=0, missed_slices=0,
                      hausdorff_pairs=0, hausdorff_one_side_empty=0) for k in range(3)}
    scans = {}
    for im in images:
        scans.setdefault(im['scan'], []).append(im)
    for scan in scans.values():
        scan.sort(key=lambda im: im['number'])
        h, w = scan[0]['h'], scan[0]['w']
        for k in range(3):
            empty = np.zeros((h, w), dtype=bool)
            g = np.stack([gt_masks.get((im['id'], k), empty) for im in scan])
            p = np.stack([dt_masks.get((im['id'], k), empty) for im in scan])
            for z in range(len(scan)):
                sg, sp = int(g[z].sum()), int(p[z].sum())
                if sg + sp == 0:
                    counts[k]['correct_empties'] += 1
                    continue
                counts[k]['pairs_scored'] += 1
                counts[k]['false_positive_slices'] += int(sg == 0)
                counts[k]['missed_slices'] += int(sp == 0)
                dice[k].append(2.0 * int((g[z] & p[z]).sum()) / (sg + sp))
            if not g.any() and not p.any():
                continue
            counts[k]['hausdorff_pairs'] += 1
            if not g.any() or not p.any():
                counts[k]['hausdorff_one_side_empty'] += 1
                haus[k].append(1.0)
            else:
                haus[k].append(hausdorff(g, p) / math.sqrt(len(scan) ** 2 + h ** 2 + w ** 2))

    def means(values):
        out = {ORGANS[k]: (float(np.mean(values[k])) if values[k] else None) for k in range(3)}
        allv = [v for k in range(3) for v in values[k]]
        out['mean'] = float(np.mean(allv)) if allv else None
        return out

    d, hd = means(dice), means(haus)
    score = None if d['mean'] is None else 0.4 * d['mean'] + 0.6 * (1 - hd['mean'])
    total = {key: sum(counts[k][key] for k in range(3)) for key in counts[0]}
    total.update(scans=len(scans), slices=len(images), per_organ={ORGANS[k]: counts[k] for k in range(3)})
    return d, hd, score, total


# ---------------------------------------------------------------- COCO segm AP (COCOeval algorithm)

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
AREA_RANGES = [('all', 0, 1e10), ('small', 0, 32 ** 2), ('medium', 32 ** 2, 96 ** 2), ('large', 96 ** 2, 1e10)]
MAX_DETS = 100


def stable_order(keys):
    return sorted(range(len(keys)), key=lambda i: (keys[i], i))


def match_one(gts, dts, lo, hi):
    """Greedy matching of one image and category -> (scores, matched[T][D], ignored[T][D], counted gts)."""
    g_ignore = [1 if (g['crowd'] or g['area'] < lo or g['area'] > hi) else 0 for g in gts]
    g_order = stable_order(g_ignore)
    gts = [gts[i] for i in g_order]
    g_ignore = [g_ignore[i] for i in g_order]
    iou = np.zeros((len(dts), len(gts)))
    for d, det in enumerate(dts):
        for j, g in enumerate(gts):
            inter = int((det['mask'] & g['mask']).sum())
            denom = det['area'] if g['crowd'] else int((det['mask'] | g['mask']).sum())
            iou[d, j] = inter / denom if denom else 0.0
    T, D = len(IOU_THRESHOLDS), len(dts)
    matched = np.zeros((T, D), dtype=bool)
    ignored = np.zeros((T, D), dtype=bool)
    for t, thr in enumerate(IOU_THRESHOLDS):
        used = [False] * len(gts)
        for d in range(D):
            best, m = min(thr, 1 - 1e-10), -1
            for j in range(len(gts)):
                if used[j] and not gts[j]['crowd']:
                    continue
                if m > -1 and g_ignore[m] == 0 and g_ignore[j] == 1:
                    break
                if iou[d, j] < best:
                    continue
                best, m = iou[d, j], j
            if m > -1:
                matched[t, d] = True
                ignored[t, d] = bool(g_ignore[m])
                used[m] = True
    for d, det in enumerate(dts):
        if det['area'] < lo or det['area'] > hi:
            ignored[:, d] |= ~matched[:, d]
    return [det['score'] for det in dts], matched, ignored, g_ignore.count(0)


def precision_table(per_image):
    """per_image: list in ascending image id of match_one results -> precision[T][R] or None."""
    if not per_image:
        return None
    npig = sum(r[3] for r in per_image)
    if npig == 0:
        return None
    scores = np.concatenate([np.asarray(r[0], dtype=float) for r in per_image])
    matched = np.concatenate([r[1] for r in per_image], axis=1)
    ignored = np.concatenate([r[2] for r in per_image], axis=1)
    order = np.argsort(-scores, kind='mergesort')
    matched, ignored = matched[:, order], ignored[:, order]
    table = np.zeros((len(IOU_THRESHOLDS), len(RECALL_POINTS)))
    for t in range(len(IOU_THRESHOLDS)):
        tp = np.cumsum(matched[t] & ~ignored[t]).astype(float)
        fp = np.cumsum(~matched[t] & ~ignored[t]).astype(float)
        recall = tp / npig
        precision = tp / (tp + fp + np.finfo(float).eps)
        precision = np.maximum.accumulate(precision[::-1])[::-1] if precision.size else precision
        where = np.searchsorted(recall, RECALL_POINTS, side='left')
        for r, i in enumerate(where):
            if i >= precision.size:
                break
            table[t, r] = precision[i]
    return table


def coco_ap(images, gt, dt):
    image_ids = sorted(im['id'] for im in images)
    gts, dts = {}, {}
    for a in gt:
        gts.setdefault((a['image'], a['organ']), []).append(a)
    for a in dt:
        dts.setdefault((a['image'], a['organ']), []).append(a)
    tables = {}
    for k in range(3):
        for name, lo, hi in AREA_RANGES:
            rows = []
            for i in image_ids:
                g, d = gts.get((i, k), []), dts.get((i, k), [])
                if not g and not d:
                    continue
                d = [d[j] for j in stable_order([-x['score'] for x in d])][:MAX_DETS]
                rows.append(match_one(g, d, lo, hi))
            tables[k, name] = precision_table(rows)

    def mean_of(parts):
        parts = [p for p in parts if p is not None]
        return float(np.mean(np.concatenate([p.reshape(-1) for p in parts]))) if parts else None

    result = {
        'AP': mean_of([tables[k, 'all'] for k in range(3)]),
        'AP50': mean_of([None if tables[k, 'all'] is None else tables[k, 'all'][0] for k in range(3)]),
        'AP75': mean_of([None if tables[k, 'all'] is None else tables[k, 'all'][5] for k in range(3)]),
        'APs': mean_of([tables[k, 'small'] for k in range(3)]),
        'APm': mean_of([tables[k, 'medium'] for k in range(3)]),
        'APl': mean_of([tables[k, 'large'] for k in range(3)]),
        'per_category': {ORGANS[k]: mean_of([tables[k, 'all']]) for k in range(3)},
    }
    assert IOU_THRESHOLDS[5] == 0.75
    return result


def evaluate(gt_path, pred_path):
    images, gt = read_ground_truth(gt_path)
    dt, outside = read_prediction(pred_path, images)
    dice, haus, score, counts = segmentation_scores(images, gt, dt)
    counts['pred_slices_not_in_gt'] = outside
    return {'dice': dice, 'hausdorff': haus, 'score': score, 'coco': coco_ap(images, gt, dt), 'counts': counts}


# ---------------------------------------------------------------- deterministic perturbed predictions

def disk(h, w, cy, cx, r):
    yy, xx = np.ogrid[:h, :w]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def shifted(mask, dy, dx):
    out = np.zeros_like(mask)
    h, w = mask.shape
    ys, yd = (slice(0, h - dy), slice(dy, h)) if dy >= 0 else (slice(-dy, h), slice(0, h + dy))
    xs, xd = (slice(0, w - dx), slice(dx, w)) if dx >= 0 else (slice(-dx, w), slice(0, w + dx))
    out[yd, xd] = mask[ys, xs]
    return out


def perturb(gt_csv, out_dir, seed, scans):
    rng = np.random.default_rng(seed)
    rows = read_csv(gt_csv)
    if scans:
        wanted = set(scans.split(','))
        rows = [r for r in rows if ID_RE.match(r['id']).group(1) in wanted]
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, 'gt.csv'), 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    scan_ids = sorted({ID_RE.match(r['id']).group(1) for r in rows})
    with_stomach = sorted({ID_RE.match(r['id']).group(1) for r in rows if r['stomach'].strip()})
    dropped_scan_organ = (with_stomach[0] if with_stomach else '', 2)  # a scan loses its stomach: Hausdorff 1
    coco_images, coco_anns, submission, results = [], [], [], []
    for i, row in enumerate(rows):
        h, w = int(row['height']), int(row['width'])
        scan, number, sid = slice_key(row['id'])
        image_id = i + 1
        coco_images.append({'id': image_id, 'width': w, 'height': h,
                            'file_name': f"train/{scan.split('_')[0]}/{scan}/scans/"
                                         f"slice_{number:04d}_{w}_{h}_1.50_1.50.png"})
        for k, organ in enumerate(ORGANS):
            gt = kaggle_decode(row[organ], h, w) if row[organ].strip() else np.zeros((h, w), dtype=bool)
            if gt.any():
                ys, xs = np.nonzero(gt)
                coco_anns.append({'id': len(coco_anns) + 1, 'image_id': image_id, 'category_id': k + 1,
                                  'segmentation': {'size': [h, w], 'counts': coco_string(coco_runs(gt))},
                                  'area': int(gt.sum()), 'iscrowd': 0,
                                  'bbox': [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
                                           int(ys.max() - ys.min() + 1)]})
            choice = rng.random()
            if (scan, k) == dropped_scan_organ or choice < 0.08:
                pred = np.zeros_like(gt)
            elif choice < 0.3:
                pred = ndimage.binary_dilation(gt, iterations=int(rng.integers(1, 4)))
            elif choice < 0.5:
                pred = ndimage.binary_erosion(gt, iterations=int(rng.integers(1, 4)))
            elif choice < 0.75:
                pred = shifted(gt, int(rng.integers(-6, 7)), int(rng.integers(-6, 7)))
            else:
                pred = gt.copy()
            if rng.random() < 0.06 and (scan, k) != dropped_scan_organ:  # a false-positive blob somewhere
                pred = pred | disk(h, w, int(rng.integers(20, h - 20)), int(rng.integers(20, w - 20)),
                                   int(rng.integers(2, 15)))
            submission.append((sid, organ, kaggle_encode(pred) if pred.any() else ''))
            if pred.any():
                score = round(float(rng.random()), 2)  # two decimals: ties happen, their order matters
                results.append({'image_id': image_id, 'category_id': k + 1, 'score': score,
                                'segmentation': {'size': [h, w], 'counts': coco_string(coco_runs(pred))}})
                if rng.random() < 0.1:  # a duplicate, shifted, usually lower score: a false positive
                    dup = shifted(pred, 3, -2)
                    if dup.any():
                        results.append({'image_id': image_id, 'category_id': k + 1,
                                        'score': round(float(rng.random()) * score, 2),
                                        'segmentation': {'size': [h, w], 'counts': coco_string(coco_runs(dup))}})
    # Two predicted slices the ground truth does not have: ignored, counted.
    extra = [(f'{scan_ids[-1]}_slice_0001', 'stomach', '1 5'), (f'{scan_ids[-1]}_slice_0002', 'stomach', '')]
    with open(os.path.join(out_dir, 'pred.csv'), 'w', newline='') as f:
        f.write('id,class,predicted\n')
        for sid, organ, rle in submission + extra:
            f.write(f'{sid},{organ},{rle}\n')
    with open(os.path.join(out_dir, 'pred.results.json'), 'w') as f:
        json.dump(results, f)
    with open(os.path.join(out_dir, 'gt.coco.json'), 'w') as f:
        json.dump({'images': coco_images, 'annotations': coco_anns,
                   'categories': [{'id': k + 1, 'name': o, 'supercategory': 'gi_tract'} for k, o in enumerate(ORGANS)]},
                  f)


# ---------------------------------------------------------------- masks summary for conversion checks

def masks_summary(path, sizes_path):
    out = {}

    def put(sid, organ, mask):
        entry = out.setdefault(sid, {})
        prev = entry.get(organ)
        merged = mask if prev is None else (prev[2] | mask)
        entry[organ] = [int(merged.sum()), hashlib.sha1(np.ascontiguousarray(merged, dtype=np.uint8)).hexdigest(),
                        merged]

    if path.endswith('.csv') and 'class' in (read_csv(path)[0] if read_csv(path) else {}):
        sizes = {im['slice']: im for im in read_ground_truth(sizes_path)[0]}
        for row in read_csv(path):
            rle = row.get('segmentation', row.get('predicted', ''))
            if rle.strip():
                im = sizes[row['id']]
                put(row['id'], row['class'], kaggle_decode(rle, im['h'], im['w']))
    else:
        images, anns = read_ground_truth(path)
        by_id = {im['id']: im for im in images}
        for a in anns:
            put(by_id[a['image']]['slice'], ORGANS[a['organ']], a['mask'])
    return {sid: {o: v[:2] for o, v in organs.items()} for sid, organs in out.items()}


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('perturb')
    p.add_argument('--gt', required=True)
    p.add_argument('--out', required=True)
    p.add_argument('--seed', type=int, default=7)
    p.add_argument('--scans', default='')
    e = sub.add_parser('evaluate')
    e.add_argument('--gt', required=True)
    e.add_argument('--pred', required=True)
    m = sub.add_parser('masks')
    m.add_argument('file')
    m.add_argument('--sizes', default='')
    args = parser.parse_args()
    if args.cmd == 'perturb':
        perturb(args.gt, args.out, args.seed, args.scans)
    elif args.cmd == 'evaluate':
        json.dump(evaluate(args.gt, args.pred), sys.stdout)
    else:
        json.dump(masks_summary(args.file, args.sizes), sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
