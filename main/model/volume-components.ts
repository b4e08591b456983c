/**
 * 3-D cleanup of one organ over a whole scan: an organ is one connected body (the stomach) or a few
 * (bowel loops), while a network working slice by slice leaves stray blobs slices away from it. Each stray
 * blob costs a false-positive slice and, worse, stretches the scan's 3-D Hausdorff distance. Components are
 * 8-connected in-plane and touch across consecutive slices when they overlap within one pixel (26-connected).
 */
import { ORGANS, type Organ } from '../core/organs';
import type { BinaryMask, SliceMasks } from '../core/types';
import { labelComponents, type OrganPostprocess } from './postprocess';

/** One organ's masks along a scan; `undefined` where the organ is absent on a slice. */
export type OrganStack = ReadonlyArray<BinaryMask | undefined>;

class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(i: number): number {
    let r = i;
    while (this.parent[r] !== r) r = this.parent[r]!;
    while (this.parent[i] !== r) {
      const next = this.parent[i]!;
      this.parent[i] = r;
      i = next;
    }
    return r;
  }
  union(a: number, b: number): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

/**
 * Keep the 3-D components with at least `minShare` × the voxels of the organ's largest component (1: the
 * largest only; 0: everything). `linked[i]` says whether slices i and i+1 are neighbours (consecutive slice
 * numbers); masks of other sizes never link. Returns new masks; slices left empty become `undefined`.
 */
export function keepMajorComponents(
  stack: OrganStack,
  linked: readonly boolean[],
  minShare: number,
): Array<BinaryMask | undefined> {
  if (minShare <= 0) return [...stack];
  const labelled = stack.map((m) => (m ? labelComponents(m) : undefined));
  const offsets: number[] = [];
  let total = 0;
  for (const l of labelled) {
    offsets.push(total);
    total += l ? l.sizes.length : 0;
  }
  const sets = new UnionFind(total);
  for (let z = 0; z + 1 < stack.length; z++) {
    const a = stack[z];
    const b = stack[z + 1];
    const la = labelled[z];
    const lb = labelled[z + 1];
    if (!linked[z] || !a || !b || !la || !lb || a.width !== b.width || a.height !== b.height) continue;
    const { width: w, height: h } = a;
    // Neighbouring pixels nearly always pair the same two components: union each pair once in a row.
    let lastA = 0;
    let lastB = 0;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const id = la.labels[y * w + x]!;
        if (!id) continue;
        for (let dy = -1; dy <= 1; dy++) {
          const ny = y + dy;
          if (ny < 0 || ny >= h) continue;
          for (let dx = -1; dx <= 1; dx++) {
            const nx = x + dx;
            if (nx < 0 || nx >= w) continue;
            const other = lb.labels[ny * w + nx]!;
            if (!other || (other === lastB && id === lastA)) continue;
            sets.union(offsets[z]! + id, offsets[z + 1]! + other);
            lastA = id;
            lastB = other;
          }
        }
      }
    }
  }
  const volume = new Float64Array(total);
  labelled.forEach((l, z) => {
    l?.sizes.forEach((size, id) => {
      if (id > 0) volume[sets.find(offsets[z]! + id)]! += size;
    });
  });
  const largest = volume.reduce((m, v) => Math.max(m, v), 0);
  const kept = Uint8Array.from({ length: total }, (_, g) =>
    volume[sets.find(g)]! >= minShare * largest ? 1 : 0,
  );
  return stack.map((m, z) => {
    const l = labelled[z];
    if (!m || !l) return undefined;
    const data = new Uint8Array(m.data.length);
    let any = false;
    for (let i = 0; i < data.length; i++) {
      const id = l.labels[i]!;
      if (id && kept[offsets[z]! + id]) {
        data[i] = 1;
        any = true;
      }
    }
    return any ? { width: m.width, height: m.height, data } : undefined;
  });
}

/** Neighbour flags for `keepMajorComponents`: slice numbers that follow each other. */
export function consecutiveSlices(numbers: readonly number[]): boolean[] {
  return numbers.slice(0, -1).map((n, i) => numbers[i + 1] === n + 1);
}

/** Organs whose post-processing has a 3-D rule. */
export function volumeRuleOrgans(post: Record<Organ, Pick<OrganPostprocess, 'minVolumeShare'>>): Organ[] {
  return ORGANS.filter((o) => (post[o].minVolumeShare ?? 0) > 0);
}

/**
 * The 3-D rule of every organ whose post-processing has one (`minVolumeShare`), applied in place to a
 * scan's per-slice masks (in slice order). Isolated slices (none a neighbour of another, e.g. a COCO set)
 * are not a volume and are left alone: the largest body there would be another slice's organ.
 */
export function cleanScanVolumes(
  masks: SliceMasks[],
  linked: readonly boolean[],
  post: Record<Organ, Pick<OrganPostprocess, 'minVolumeShare'>>,
): void {
  if (!linked.some(Boolean)) return;
  for (const organ of volumeRuleOrgans(post)) {
    const share = post[organ].minVolumeShare!;
    const kept = keepMajorComponents(
      masks.map((m) => m[organ]),
      linked,
      share,
    );
    kept.forEach((m, z) => {
      if (m) masks[z]![organ] = m;
      else delete masks[z]![organ];
    });
  }
}
