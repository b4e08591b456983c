/**
 * A procedural 3D abdomen, cut into axial tissue maps at any height.
 *
 * Coordinates in millimetres: x to the image right (patient left), y to the image bottom (posterior),
 * z downwards from the liver dome (inferior), matching UW-Madison slice numbers, which grow towards
 * the feet. Anatomy follows the real UW-Madison slices: liver image-left, stomach image-right and up,
 * spine bottom-centre, kidneys either side of it, colon as a frame around the periphery (ascending
 * image-left, transverse anterior, descending image-right), small-bowel loops in the middle.
 * Every structure is a function of (x, y, z), so neighbouring slices are continuous.
 */
import type { Rng } from '../model/augment/random';
import { createFractalNoise3, type Noise3 } from './fields';
import type { SliceGrid } from './render';
import { T } from './tissues';
import { randomWalkTube, smoothTube, tubeDepth, type Tube } from './tubes';

/** Body outline and spine position; drawn at random, or fitted around real organs by SynthSeg. */
export interface BodyFrame {
  /** Centre of the body outline (mm). */
  cx: number;
  cy: number;
  /** Half width (mm). */
  halfWidth: number;
  /** Distance from the centre to the front (anterior) and back (posterior) skin (mm). */
  front: number;
  back: number;
  /** y of the vertebral body centre (mm). */
  spineY: number;
}

export function randomBodyFrame(rng: Rng): BodyFrame {
  const halfWidth = rng.uniform(135, 175);
  const front = rng.uniform(95, 130);
  const back = rng.uniform(95, 120);
  const cy = rng.uniform(-15, 15);
  return { cx: rng.uniform(-10, 10), cy, halfWidth, front, back, spineY: cy + back - rng.uniform(55, 70) };
}

export interface AnatomyOptions {
  /** Draw stomach, small bowel and large bowel (false: SynthSeg paints real ones instead). */
  organs: boolean;
  frame?: BodyFrame;
  /**
   * Randomness of what changes between treatment days of one patient (bowel loops, stomach filling,
   * gas); the constructor's rng then fixes only what a patient keeps (body, solid organs, colon course).
   */
  dayRng?: Rng;
  /** Subcutaneous fat and abdominal wall muscle thickness (mm); random when not given. */
  fatThicknessMm?: number;
  wallThicknessMm?: number;
  /** Share (0–1) of the abdominal fat turned into unlabelled soft-tissue blobs, so that not every non-fat
   * thing in the belly is an organ. Default 0.08. */
  clutter?: number;
}

const HARD = new Set<number>([
  T.background,
  T.subcutaneous_fat,
  T.muscle,
  T.vertebral_marrow,
  T.bone_cortex,
  T.csf,
  T.kidney_cortex,
  T.kidney_medulla,
  T.vessel,
  T.arm,
]);

/** True where a hollow organ may be painted: inside the abdominal cavity, not bone, kidney or aorta. */
export function organMayOccupy(tissue: number): boolean {
  return !HARD.has(tissue);
}

/** Length of (a, b); Math.hypot is several times slower and this runs per pixel. */
function len(a: number, b: number): number {
  return Math.sqrt(a * a + b * b);
}

interface Ellipse {
  x: number;
  y: number;
  rx: number;
  ry: number;
  angle: number;
}

export class AbdomenModel {
  readonly frame: BodyFrame;
  private readonly wobble: Noise3;
  private readonly fine: Noise3;
  private readonly liverVessels: Noise3;
  private readonly stoolAir: Noise3;
  private readonly clutterNoise: Noise3;
  private readonly streaks: Noise3;
  private readonly clutterLevel: number;
  private readonly fatThickness: number;
  private readonly wallThickness: number;
  private readonly liverEnd: number;
  private readonly spleenEnd: number;
  private readonly kidneyTop: [number, number];
  private readonly kidneyLength: number;
  private readonly arms: boolean;
  private readonly stomach: Tube;
  private readonly colon: Tube;
  private readonly smallBowel: Tube[];
  private readonly stomachAirY: number;
  private readonly collapsedLoops: Set<number>;

  constructor(
    rng: Rng,
    private readonly opts: AnatomyOptions,
  ) {
    const f = (this.frame = opts.frame ?? randomBodyFrame(rng));
    this.wobble = createFractalNoise3(rng, 60, 2);
    this.fine = createFractalNoise3(rng, 12, 2);
    this.liverVessels = createFractalNoise3(rng, 6, 1);
    this.clutterNoise = createFractalNoise3(rng, 10, 2);
    this.streaks = createFractalNoise3(rng, 25, 2);
    // noise of 2 octaves is roughly uniform in ±0.6: map the wanted share to a threshold
    this.clutterLevel = 0.6 - 1.2 * Math.min(1, Math.max(0, opts.clutter ?? 0.08));
    this.fatThickness = rng.uniform(8, 35);
    this.wallThickness = rng.uniform(6, 12);
    if (opts.fatThicknessMm !== undefined) this.fatThickness = opts.fatThicknessMm;
    if (opts.wallThicknessMm !== undefined) this.wallThickness = opts.wallThicknessMm;
    this.liverEnd = rng.uniform(150, 200);
    this.spleenEnd = rng.uniform(100, 150);
    const kTop = rng.uniform(85, 115);
    this.kidneyTop = [kTop + rng.uniform(5, 20), kTop]; // image-left (patient right) kidney sits lower
    this.kidneyLength = rng.uniform(95, 120);
    this.arms = rng.next() < 0.4;
    const a = f.halfWidth;
    const b = f.front;
    const colonScale = rng.uniform(0.8, 1.2);
    const colonJitter = Array.from({ length: 36 }, () => rng.uniform(-1, 1));
    const colonRadii = Array.from({ length: 12 }, () => rng.uniform(0.85, 1.15));

    // from here on: what differs between days of the same patient
    const day = opts.dayRng ?? rng;
    this.stoolAir = createFractalNoise3(day, 7, 2);
    this.stomachAirY = day.next() < 0.6 ? f.cy - f.front * day.uniform(0.25, 0.6) : -Infinity;
    const dj = (s: number): number => day.uniform(-s, s);
    const sr = day.uniform(0.75, 1.25);
    this.stomach = smoothTube(
      {
        points: [
          ...[f.cx + 0.45 * a + dj(10), f.cy + 0.05 * b + dj(10), 25 + dj(10)],
          ...[f.cx + 0.42 * a + dj(10), f.cy - 0.25 * b + dj(10), 65 + dj(10)],
          ...[f.cx + 0.28 * a + dj(10), f.cy - 0.45 * b + dj(10), 105 + dj(12)],
          ...[f.cx + 0.02 * a + dj(10), f.cy - 0.5 * b + dj(10), 135 + dj(12)],
          ...[f.cx - 0.18 * a + dj(8), f.cy - 0.35 * b + dj(8), 150 + dj(10)],
        ],
        radii: [42, 38, 32, 22, 12].map((r) => r * sr * day.uniform(0.85, 1.15)),
      },
      6,
    );

    // the colon keeps its course from day to day; its filling and exact position vary a little
    const cj = (i: number, s: number): number => colonJitter[i]! * s + dj(s * 0.4);
    const colonControl: Tube = {
      points: [
        ...[f.cx - 0.62 * a + cj(0, 8), f.cy - 0.1 * b + cj(1, 10), 285 + cj(2, 15)], // caecum
        ...[f.cx - 0.66 * a + cj(3, 8), f.cy + 0.05 * b + cj(4, 10), 220 + cj(5, 10)], // ascending
        ...[f.cx - 0.6 * a + cj(6, 8), f.cy - 0.15 * b + cj(7, 10), 150 + cj(8, 10)], // hepatic flexure
        ...[f.cx - 0.3 * a + cj(9, 10), f.cy - 0.7 * b + cj(10, 8), 165 + cj(11, 12)], // transverse
        ...[f.cx + 0.02 * a + cj(12, 10), f.cy - 0.75 * b + cj(13, 8), 185 + cj(14, 20)],
        ...[f.cx + 0.35 * a + cj(15, 10), f.cy - 0.65 * b + cj(16, 8), 150 + cj(17, 12)],
        ...[f.cx + 0.66 * a + cj(18, 8), f.cy - 0.15 * b + cj(19, 10), 115 + cj(20, 10)], // splenic flexure
        ...[f.cx + 0.7 * a + cj(21, 8), f.cy + 0.05 * b + cj(22, 10), 170 + cj(23, 10)], // descending
        ...[f.cx + 0.68 * a + cj(24, 8), f.cy + 0.0 * b + cj(25, 10), 250 + cj(26, 10)],
        ...[f.cx + 0.4 * a + cj(27, 10), f.cy - 0.35 * b + cj(28, 10), 300 + cj(29, 10)], // sigmoid
        ...[f.cx + 0.05 * a + cj(30, 10), f.cy - 0.2 * b + cj(31, 10), 320 + cj(32, 8)],
        ...[f.cx + 0.0 * a + cj(33, 6), f.spineY - 10 + cj(34, 6), 345], // rectum
      ],
      radii: [24, 21, 20, 20, 18, 18, 18, 17, 17, 15, 15, 17].map(
        (r, i) => r * colonScale * colonRadii[i]! * day.uniform(0.9, 1.1),
      ),
    };
    const colon = smoothTube(colonControl, 10);
    // haustra: the colon's calibre bulges every few centimetres
    const haustraMm = day.uniform(20, 35);
    let arc = 0;
    for (let i = 0; i < colon.radii.length; i++) {
      if (i > 0) {
        const p = colon.points;
        arc += Math.hypot(
          p[i * 3]! - p[i * 3 - 3]!,
          p[i * 3 + 1]! - p[i * 3 - 2]!,
          p[i * 3 + 2]! - p[i * 3 - 1]!,
        );
      }
      colon.radii[i]! *= 1 + 0.12 * Math.sin((2 * Math.PI * arc) / haustraMm);
    }
    this.colon = colon;

    const loops = 7 + day.int(5);
    this.smallBowel = Array.from({ length: loops }, () =>
      randomWalkTube(day, {
        centre: [f.cx + day.uniform(-0.1, 0.1) * a, f.cy - 0.2 * b, 235],
        semiAxes: [0.45 * a, 0.45 * b, 85],
        steps: 100 + day.int(60),
        stepMm: 6,
        radius: [8, 14],
      }),
    );
    this.collapsedLoops = new Set(this.smallBowel.map((_, i) => i).filter(() => day.next() < 0.3));
  }

  /** Tissue label of every pixel of the axial slice at height z (mm). */
  tissuesAt(z: number, grid: SliceGrid): Uint8Array {
    const { width, height, pixelMm } = grid;
    const n = width * height;
    const tissue = new Uint8Array(n);
    const kidneys = this.kidneyEllipses(z);
    const spleen = this.spleenEllipse(z);
    const liverScale = this.profile(z, -40, 20, this.liverEnd - 60, this.liverEnd);
    for (let jj = 0; jj < height; jj++) {
      const y = (jj + 0.5 - height / 2) * pixelMm;
      for (let ii = 0; ii < width; ii++) {
        const x = (ii + 0.5 - width / 2) * pixelMm;
        tissue[jj * width + ii] = this.staticTissue(x, y, z, kidneys, spleen, liverScale);
      }
    }
    if (this.opts.organs) this.paintOrgans(tissue, grid, z);
    return tissue;
  }

  /** Trapezoid profile along z: 0 before z0, ramps to 1 at z1, 1 until z2, back to 0 at z3. */
  private profile(z: number, z0: number, z1: number, z2: number, z3: number): number {
    if (z <= z0 || z >= z3) return 0;
    if (z < z1) return (z - z0) / (z1 - z0);
    if (z > z2) return (z3 - z) / (z3 - z2);
    return 1;
  }

  private kidneyEllipses(z: number): Ellipse[] {
    const f = this.frame;
    return this.kidneyTop.flatMap((top, side) => {
      const t = (z - top) / this.kidneyLength;
      if (t <= 0 || t >= 1) return [];
      const s = Math.sqrt(Math.sin(Math.PI * t));
      const sign = side === 0 ? -1 : 1;
      return [
        {
          x: f.cx + sign * (f.halfWidth * 0.42),
          y: f.spineY - 8,
          rx: 26 * s,
          ry: 38 * s,
          angle: sign * -0.5,
        },
      ];
    });
  }

  private spleenEllipse(z: number): Ellipse | undefined {
    const s = this.profile(z, 10, 40, this.spleenEnd - 30, this.spleenEnd);
    if (s <= 0) return undefined;
    const f = this.frame;
    return { x: f.cx + f.halfWidth * 0.62, y: f.spineY - 10, rx: 28 * s, ry: 50 * s, angle: 0.6 };
  }

  private insideEllipse(e: Ellipse, x: number, y: number, grow = 0): boolean {
    const c = Math.cos(e.angle);
    const s = Math.sin(e.angle);
    const dx = x - e.x;
    const dy = y - e.y;
    const u = (dx * c + dy * s) / (e.rx + grow);
    const v = (-dx * s + dy * c) / (e.ry + grow);
    return u * u + v * v < 1;
  }

  /** Body wall, spine, solid organs and vessels: everything but the three hollow organs. */
  private staticTissue(
    x: number,
    y: number,
    z: number,
    kidneys: Ellipse[],
    spleen: Ellipse | undefined,
    liverScale: number,
  ): number {
    const f = this.frame;
    const dx = x - f.cx;
    const dy = y - f.cy;
    const ry = dy < 0 ? f.front : f.back;
    // superellipse-ish outline, flatter at the back; wobble makes every body different
    const nx = Math.abs(dx) / f.halfWidth;
    const ny = Math.abs(dy) / ry;
    const p = dy < 0 ? 2.2 : 3;
    const rho = Math.pow(Math.pow(nx, p) + Math.pow(ny, p), 1 / p);
    // cheap exits first: far outside the body, or deep inside it (wobble is at most ±4 %)
    const edge = rho > 1.05 || rho < 0.5 ? 1 : 1 + 0.04 * this.wobble(x, y, z);
    const meanR = len(f.halfWidth * nx, ry * ny) / Math.max(rho, 1e-6);
    const depthMm = (edge - rho) * meanR; // distance in from the skin, approximately
    if (depthMm < 0) {
      if (this.arms) {
        const ax = Math.abs(dx) - (f.halfWidth + 45);
        if (len(ax / 32, (dy + 5) / 45) < 1 + 0.05 * this.wobble(x + 300, y, z)) return T.arm;
      }
      return T.background;
    }
    // fat is thicker at the front than at the back, changing smoothly around the flanks
    const fatMean = this.fatThickness * (0.85 - 0.15 * Math.tanh(dy / 40));
    if (depthMm < fatMean * 1.36 + this.wallThickness) {
      const fat = fatMean * (1 + 0.35 * this.wobble(x * 2, y * 2, z));
      if (depthMm < fat) return T.subcutaneous_fat;
      if (depthMm < fat + this.wallThickness) return T.muscle;
    }

    // spine: vertebral body, canal, posterior elements, paraspinal muscles
    const sx = x - f.cx;
    const sy = y - f.spineY;
    const vb = len(sx / 22, sy / 18);
    if (vb < 1) return vb > 0.86 ? T.bone_cortex : T.vertebral_marrow;
    const canal = len(sx / 9, (sy - 27) / 8);
    if (canal < 1) return T.csf;
    if (canal < 1.5) return T.bone_cortex;
    if (len(sx / 6, (sy - 48) / 14) < 1) return T.vertebral_marrow;
    if (len((Math.abs(sx) - 32) / 26, (sy - 40) / 24) < 1) return T.muscle;
    if (sy > 15 && len(sx / 80, (sy - 45) / 40) < 1) return T.muscle; // back muscles behind the spine
    // psoas grows below the kidneys
    const psoas = this.profile(z, 150, 260, 400, 500);
    if (psoas > 0 && len((Math.abs(sx) - 35) / (18 * psoas + 1), (sy + 2) / (16 * psoas + 1)) < 1)
      return T.muscle;
    // aorta (patient left of the midline) and IVC
    if (len(sx - 14, sy + 30) < 11) return T.vessel;
    if (z < 260 && len((sx + 24) / 14, (sy + 28) / 9) < 1) return T.vessel;

    for (const k of kidneys) {
      if (this.insideEllipse(k, x, y, 2 * this.fine(x, y, z))) {
        return this.insideEllipse(k, x, y, -7) ? T.kidney_medulla : T.kidney_cortex;
      }
    }
    if (spleen && this.insideEllipse(spleen, x, y, 5 * this.fine(x, y, z))) return T.spleen;
    if (liverScale > 0) {
      const liver: Ellipse = {
        x: f.cx - f.halfWidth * 0.35,
        y: f.cy - 5,
        rx: f.halfWidth * 0.72 * liverScale,
        ry: (f.front + f.back) * 0.48 * liverScale,
        angle: 0.15,
      };
      if (this.insideEllipse(liver, x, y, 10 * this.wobble(x, y, z + 100))) {
        return this.liverVessels(x, y, z) > 0.7 ? T.hepatic_vessel : T.liver;
      }
    }
    const gb = this.profile(z, 95, 110, 135, 150);
    if (gb > 0 && len((x - f.cx + f.halfWidth * 0.3) / 14, (y - f.cy + 20) / 20) < gb) return T.gallbladder;
    const pancreas = this.profile(z, 95, 105, 125, 140);
    if (pancreas > 0) {
      // a band running from the duodenum towards the spleen, in front of the aorta
      const t = Math.min(1, Math.max(0, (sx + 30) / 110));
      const by = -38 + 10 * t;
      if (Math.abs(sy - by) < 9 * pancreas && sx > -30 && sx < 80) return T.pancreas;
    }
    if (this.clutterNoise(x, y, z) > this.clutterLevel) return T.clutter;
    // thin curving lines through the fat (the zero set of a smooth noise): mesenteric vessels and folds
    if (Math.abs(this.streaks(x, y, z)) < 0.02) return T.clutter;
    return T.visceral_fat;
  }

  private paintOrgans(tissue: Uint8Array, grid: SliceGrid, z: number): void {
    const { width, height, pixelMm } = grid;
    const n = width * height;
    const wall = 2.5;
    const sb = new Float32Array(n).fill(-Infinity);
    const collapsed = new Float32Array(n).fill(-Infinity);
    this.smallBowel.forEach((loop, i) =>
      tubeDepth(loop, grid, z, this.collapsedLoops.has(i) ? collapsed : sb),
    );
    const colon = new Float32Array(n).fill(-Infinity);
    tubeDepth(this.colon, grid, z, colon);
    const stomach = new Float32Array(n).fill(-Infinity);
    tubeDepth(this.stomach, grid, z, stomach);
    for (let k = 0; k < n; k++) {
      if (!organMayOccupy(tissue[k]!)) continue;
      const x = ((k % width) + 0.5 - width / 2) * pixelMm;
      const y = (Math.floor(k / width) + 0.5 - height / 2) * pixelMm;
      const rough = 1.5 * this.fine(x, y, z);
      if (stomach[k]! + rough > 0) {
        tissue[k] =
          stomach[k]! + rough < 4 ? T.stomach_wall : y < this.stomachAirY ? T.stomach_air : T.stomach_content;
      } else if (colon[k]! + rough > 0) {
        tissue[k] =
          colon[k]! + rough < wall + 0.5
            ? T.colon_wall
            : this.stoolAir(x, y, z) > 0.45
              ? T.colon_air
              : T.colon_stool;
      } else if (sb[k]! + rough > 0) {
        tissue[k] = sb[k]! + rough < wall ? T.small_bowel_wall : T.small_bowel_content;
      } else if (collapsed[k]! + rough * 0.5 > 3) {
        tissue[k] = T.small_bowel_wall; // a collapsed loop: wall only, thinner
      }
    }
  }
}
