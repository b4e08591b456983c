"""Independent numpy reference for COCO RLE (pycocotools semantics), used by test/unit/masks-coco-rle.test.ts.

stdin: {"masks": [{"h": H, "w": W, "data": [row-major 0/1 ...]}, ...], "crowd": [bool per mask]}
stdout: {"counts": [[...]], "strings": ["..."], "areas": [...], "bboxes": [[x, y, w, h]], "iou": [[dt][gt]]}
Everything is computed from pixels with numpy (column-major flattening, np.where boxes, pixel IoU);
only the 6-bit string codec follows the written description of pycocotools' rleToString.
"""
import json
import sys

import numpy as np


def counts_of(m):
    flat = m.flatten(order="F")  # column-major, as pycocotools wants Fortran order
    if flat.size == 0:
        return [0]
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    runs = [int(r) for r in np.diff(np.concatenate([[0], changes, [flat.size]]))]
    return [0] + runs if flat[0] else runs  # the first run is always background


def to_string(counts):
    out = []
    for i, c in enumerate(counts):
        x = c - counts[i - 2] if i > 2 else c
        while True:
            low = x & 0x1F  # Python ints: & and >> act on the infinite two's complement
            x >>= 5
            more = x != -1 if low & 0x10 else x != 0
            out.append(chr(48 + (low | 0x20 if more else low)))
            if not more:
                break
    return "".join(out)


def bbox(m):
    ys, xs = np.where(m)
    if xs.size == 0:
        return [0, 0, 0, 0]
    return [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)]


def main():
    req = json.load(sys.stdin)
    masks = [np.array(m["data"], dtype=np.uint8).reshape(m["h"], m["w"]) for m in req["masks"]]
    crowd = req["crowd"]
    counts = [counts_of(m) for m in masks]
    iou = []
    for d in masks:
        row = []
        for g, is_crowd in zip(masks, crowd):
            if d.shape != g.shape:
                row.append(None)  # not comparable pixel by pixel
                continue
            inter = int(np.logical_and(d, g).sum())
            union = int(d.sum()) if is_crowd else int(np.logical_or(d, g).sum())
            row.append(inter / union if inter else 0.0)
        iou.append(row)
    json.dump(
        {
            "counts": counts,
            "strings": [to_string(c) for c in counts],
            "areas": [int(m.sum()) for m in masks],
            "bboxes": [bbox(m) for m in masks],
            "iou": iou,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
