/*
 * The per-pixel loops of slice decoding and inference, compiled to WebAssembly by
 * scripts/build-kernels.mjs into pixels-wasm.ts (see pixels.ts for why and for the JavaScript side). Each
 * function computes, in the same double-precision operations and the same order, what its documented
 * JavaScript predecessor did, so the results are bit-identical: no fused multiply-add (WebAssembly has
 * none), no fast-math.
 *
 * No C library: the caller lays out every buffer in this module's memory and passes pointers.
 */
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(#name)))

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

/*
 * Source coordinate (clamped to [0, n-1]) of each of m output pixels when n pixels are resampled to m,
 * pixel centres aligned (half-pixel convention): lower index and the float32 weight of the upper neighbour.
 */
static void sample_positions(int n, int m, int32_t *lower, float *weight) {
  for (int i = 0; i < m; i++) {
    double s = ((i + 0.5) * n) / m - 0.5;
    if (s < 0) s = 0;
    if (s > n - 1) s = n - 1;
    int lo = imax(0, imin(n - 2, (int)__builtin_floor(s)));
    lower[i] = lo;
    weight[i] = n == 1 ? 0.0f : (float)(s - lo);
  }
}

/* Bytes of scratch `resample` needs for a dst_w x dst_h destination written x0..x1 wide (span). */
EXPORT(resample_scratch_bytes)
int resample_scratch_bytes(int dst_w, int dst_h, int span) {
  return 8 + 3 * 8 * span + 4 * span + 8 * (dst_w + dst_h);
}

enum { SRC_F32 = 0, SRC_F64 = 1, SRC_U16 = 2, SRC_U8 = 3 };

/* Element i of the source, through the level table when there is one. */
static inline double sample(int kind, const void *src, const float *levels, int i) {
  switch (kind) {
  case SRC_F32: return ((const float *)src)[i];
  case SRC_F64: return ((const double *)src)[i];
  case SRC_U16: return levels ? levels[((const uint16_t *)src)[i]] : ((const uint16_t *)src)[i];
  default: return levels ? levels[((const uint8_t *)src)[i]] : ((const uint8_t *)src)[i];
  }
}

static void interpolate_row(int kind, const void *src, const float *levels, int base, int next,
                            const int32_t *columns, const double *weights, double *into, int span) {
  for (int k = 0; k < span; k++) {
    int i = base + columns[k];
    double a = sample(kind, src, levels, i);
    double b = sample(kind, src, levels, i + next);
    into[k] = a + (b - a) * weights[k];
  }
}

/*
 * Bilinear resample of a source plane onto the whole of a destination plane (half-pixel centres, edges
 * clamped); only destination pixels x0 <= x < x1, y0 <= y < y1 are written. A plane's element (x, y) is
 * at offset + y * row_stride + x * pixel_stride. Separable: each source row the output needs is
 * interpolated across columns once, into a double row, and every output row blends two of those.
 */
EXPORT(resample)
void resample(int kind, const void *src, const float *levels, int src_w, int src_h, int src_offset,
              int src_pixel_stride, int src_row_stride, float *dst, int dst_w, int dst_h, int dst_offset,
              int dst_pixel_stride, int dst_row_stride, int x0, int x1, int y0, int y1,
              uint8_t *scratch) {
  if (x1 <= x0 || y1 <= y0) return;
  int span = x1 - x0;
  double *weights = (double *)(((uintptr_t)scratch + 7) & ~(uintptr_t)7);
  double *upper = weights + span;
  double *lower = upper + span;
  int32_t *columns = (int32_t *)(lower + span);
  int32_t *xs_lower = columns + span;
  float *xs_weight = (float *)(xs_lower + dst_w);
  int32_t *ys_lower = (int32_t *)(xs_weight + dst_w);
  float *ys_weight = (float *)(ys_lower + dst_h);
  sample_positions(src_w, dst_w, xs_lower, xs_weight);
  sample_positions(src_h, dst_h, ys_lower, ys_weight);
  /* Source offset and weight of each written output column. */
  for (int k = 0; k < span; k++) {
    columns[k] = xs_lower[x0 + k] * src_pixel_stride;
    weights[k] = xs_weight[x0 + k];
  }
  int next_x = src_w > 1 ? src_pixel_stride : 0;
  int upper_row = -1, lower_row = -1;
  for (int y = y0; y < y1; y++) {
    int r0 = ys_lower[y];
    int r1 = imin(src_h - 1, r0 + 1);
    if (r0 != upper_row) {
      if (r0 == lower_row) {
        double *swap = upper;
        upper = lower;
        lower = swap;
        lower_row = -1;
      } else {
        interpolate_row(kind, src, levels, src_offset + r0 * src_row_stride, next_x, columns, weights,
                        upper, span);
      }
      upper_row = r0;
    }
    if (r1 != lower_row) {
      if (r1 == upper_row) {
        for (int k = 0; k < span; k++) lower[k] = upper[k];
      } else {
        interpolate_row(kind, src, levels, src_offset + r1 * src_row_stride, next_x, columns, weights,
                        lower, span);
      }
      lower_row = r1;
    }
    double w = ys_weight[y];
    float *out = dst + dst_offset + y * dst_row_stride + x0 * dst_pixel_stride;
    for (int k = 0; k < span; k++, out += dst_pixel_stride) {
      double top = upper[k];
      *out = (float)(top + (lower[k] - top) * w);
    }
  }
}

/* Bytes of scratch `summary` needs for an inner_w x inner_h grid mapped to src_w x src_h. */
EXPORT(summary_scratch_bytes)
int summary_scratch_bytes(int inner_w, int inner_h, int src_w, int src_h) {
  return 8 + 8 * (inner_w + inner_h) + 8 * (src_w + src_h);
}

/* How much each of n source pixels contributes, summed over the m output pixels resampled from them. */
static void contributions(int n, int m, const int32_t *lower, const float *weight, double *out) {
  for (int i = 0; i < n; i++) out[i] = 0;
  for (int k = 0; k < m; k++) {
    out[lower[k]] += 1 - (double)weight[k];
    if (n > 1) out[lower[k] + 1] += weight[k];
  }
}

/* The output pixels [k0, k1) whose two source pixels (lower, lower + 1) touch sources [lo, hi]. */
static void touching(const int32_t *lower, int m, int lo, int hi, int32_t *k0_k1) {
  int k0 = 0;
  while (k0 < m && lower[k0] + 1 < lo) k0++;
  int k1 = k0;
  while (k1 < m && lower[k1] <= hi) k1++;
  k0_k1[0] = k0;
  k0_k1[1] = k1;
}

/*
 * What resampling one channel of a network output (inner_w x inner_h at `at`, rows row_stride apart,
 * pixels `channels` apart) to src_w x src_h would give, without producing it: out_mass[0] = its sum
 * (sum of value * column's contribution * row's contribution over the visible window vx0..vx1, vy0..vy1),
 * and out_box = {found, x0, x1, y0, y1}: the native pixels with a network value >= floor among their
 * bilinear sources (found = 0 when there are none).
 */
EXPORT(summary)
void summary(const float *map, int at, int row_stride, int channels, int inner_w, int inner_h, int src_w,
             int src_h, int vx0, int vx1, int vy0, int vy1, double floor, uint8_t *scratch,
             double *out_mass, int32_t *out_box) {
  double *cx = (double *)(((uintptr_t)scratch + 7) & ~(uintptr_t)7);
  double *cy = cx + inner_w;
  int32_t *xs_lower = (int32_t *)(cy + inner_h);
  float *xs_weight = (float *)(xs_lower + src_w);
  int32_t *ys_lower = (int32_t *)(xs_weight + src_w);
  float *ys_weight = (float *)(ys_lower + src_h);
  sample_positions(inner_w, src_w, xs_lower, xs_weight);
  sample_positions(inner_h, src_h, ys_lower, ys_weight);
  contributions(inner_w, src_w, xs_lower, xs_weight, cx);
  contributions(inner_h, src_h, ys_lower, ys_weight, cy);
  double mass = 0;
  int bx0 = INT32_MAX, bx1 = -1, by0 = INT32_MAX, by1 = -1;
  for (int y = vy0; y < vy1; y++) {
    double row = 0;
    const float *v = map + at + y * row_stride + vx0 * channels;
    for (int x = vx0; x < vx1; x++, v += channels) {
      if (*v >= floor) {
        if (x < bx0) bx0 = x;
        if (x > bx1) bx1 = x;
        if (y < by0) by0 = y;
        by1 = y;
      }
      row += *v * cx[x];
    }
    mass += row * cy[y];
  }
  out_mass[0] = mass;
  out_box[0] = by1 >= 0;
  if (by1 < 0) return;
  touching(xs_lower, src_w, bx0, bx1, out_box + 1);
  touching(ys_lower, src_h, by0, by1, out_box + 3);
}

/*
 * Adds each sample to hist and returns the largest. Even and odd samples go to separate bins (odd, left
 * all zero again), summed at the end: runs of one value (a scan's dark background) would otherwise make
 * every increment wait for the one before it.
 */
EXPORT(count_levels)
int count_levels(const void *data, int n, int bytes_per_sample, uint32_t *hist, uint32_t *odd) {
  /* One loop for both sample sizes: the compiler makes a copy of it for each (bytes_per_sample is fixed). */
  int kind = bytes_per_sample == 2 ? SRC_U16 : SRC_U8;
  int max = 0;
  int i = 0;
  for (; i + 1 < n; i += 2) {
    int v = (int)sample(kind, data, 0, i), w = (int)sample(kind, data, 0, i + 1);
    hist[v]++;
    odd[w]++;
    max = imax(max, imax(v, w));
  }
  if (i < n) {
    int v = (int)sample(kind, data, 0, i);
    hist[v]++;
    max = imax(max, v);
  }
  for (int v = 0; v <= max; v++) {
    hist[v] += odd[v];
    odd[v] = 0;
  }
  return max;
}

/*
 * The rows of a non-interlaced PNG as inflated (`height` rows at `raw`, each a filter-type byte and then
 * row_bytes bytes), unfiltered in place (filters 0-4, `bpp` bytes per pixel) and packed without their
 * filter bytes into `out`; with `swap`, every pair of bytes swapped (16-bit samples are big-endian in a PNG).
 * Returns -1, or the first row whose filter type is not one of PNG's five (nothing after it is decoded).
 */
EXPORT(png_unfilter)
int png_unfilter(uint8_t *raw, int height, int row_bytes, int bpp, int swap, uint8_t *out) {
  const uint8_t *prev = 0;
  for (int y = 0; y < height; y++) {
    uint8_t *row = raw + y * (row_bytes + 1) + 1;
    int filter = row[-1];
    switch (filter) {
    case 0:
      break;
    case 1:
      for (int i = bpp; i < row_bytes; i++) row[i] = (uint8_t)(row[i] + row[i - bpp]);
      break;
    case 2:
      if (prev)
        for (int i = 0; i < row_bytes; i++) row[i] = (uint8_t)(row[i] + prev[i]);
      break;
    case 3:
      for (int i = 0; i < row_bytes; i++) {
        int left = i >= bpp ? row[i - bpp] : 0;
        int up = prev ? prev[i] : 0;
        row[i] = (uint8_t)(row[i] + ((left + up) >> 1));
      }
      break;
    case 4:
      for (int i = 0; i < row_bytes; i++) {
        int a = i >= bpp ? row[i - bpp] : 0;
        int b = prev ? prev[i] : 0;
        int c = prev && i >= bpp ? prev[i - bpp] : 0;
        int pa = b - c < 0 ? c - b : b - c;
        int pb = a - c < 0 ? c - a : a - c;
        int pc = a + b - 2 * c < 0 ? 2 * c - a - b : a + b - 2 * c;
        row[i] = (uint8_t)(row[i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c));
      }
      break;
    default:
      return y;
    }
    uint8_t *dst = out + y * row_bytes;
    if (swap) {
      for (int i = 0; i + 1 < row_bytes; i += 2) {
        dst[i] = row[i + 1];
        dst[i + 1] = row[i];
      }
    } else {
      for (int i = 0; i < row_bytes; i++) dst[i] = row[i];
    }
    prev = row;
  }
  return -1;
}

/*
 * One probability map's uncertainty terms over the part x0..x1, y0..y1 of a map `width` wide (float32 or
 * float64 samples):
 * out[0] = sum of p where p <= t plus sum of 1 - p where p > t, out[1] = sum of p, out[2] = #(p > t).
 */
EXPORT(uncertainty_terms)
void uncertainty_terms(int kind, const void *map, int width, int x0, int x1, int y0, int y1, double t,
                       double *out) {
  double wrong_side = 0, mass = 0;
  int count = 0;
  for (int y = y0; y < y1; y++) {
    for (int i = y * width + x0, end = y * width + x1; i < end; i++) {
      double v = sample(kind, map, 0, i);
      mass += v;
      if (v > t) {
        wrong_side += 1 - v;
        count++;
      } else {
        wrong_side += v;
      }
    }
  }
  out[0] = wrong_side;
  out[1] = mass;
  out[2] = count;
}

/*
 * An organ's mask over the box x0..x1, y0..y1 of a probability map `width` wide: mask (box-sized, row by
 * row) = p > threshold; counts[0] = #(p > gate), counts[1] = #(p > threshold); sum[0] = sum of those p,
 * added in pixel order.
 */
EXPORT(threshold_box)
void threshold_box(const float *prob, int width, int x0, int x1, int y0, int y1, double threshold,
                   double gate, uint8_t *mask, int32_t *counts, double *sum) {
  int gate_count = 0, count = 0;
  double total = 0;
  for (int y = y0; y < y1; y++) {
    const float *p = prob + y * width + x0;
    for (int x = x0; x < x1; x++, p++, mask++) {
      double v = *p;
      if (v > gate) gate_count++;
      *mask = v > threshold;
      if (v > threshold) {
        count++;
        total += v;
      }
    }
  }
  counts[0] = gate_count;
  counts[1] = count;
  sum[0] = total;
}

/* Appends `length` pixels of value v (0/1) to column-major run lengths (pycocotools' order). */
static inline void add_run(int v, int length, int *previous, int *run, int32_t *out, int *count) {
  if (length == 0) return;
  if (v != *previous) {
    out[(*count)++] = *run;
    *run = 0;
    *previous = v;
  }
  *run += length;
}

/*
 * A row-major mask's runs (any non-zero byte is inside). out_rows: each row-major run as a (1-based start,
 * length) pair (Kaggle RLE). With want_cols, out_cols: the column-major run lengths, alternating, starting
 * with a background run (pycocotools' rleEncode). stats = {pairs, column counts, inside pixels, box x, y,
 * width, height} (box all 0 when empty).
 */
EXPORT(mask_runs)
void mask_runs(const uint8_t *mask, int width, int height, int want_cols, int32_t *out_rows,
               int32_t *out_cols, int32_t *stats) {
  int n = width * height;
  int pairs = 0, area = 0;
  int x0 = width, y0 = height, x1 = -1, y1 = -1;
  int i = 0;
  while (i < n) {
    /* zeros skipped 8 at a time */
    while (i + 8 <= n) {
      uint64_t word;
      __builtin_memcpy(&word, mask + i, 8);
      if (word) break;
      i += 8;
    }
    while (i < n && mask[i] == 0) i++;
    if (i >= n) break;
    int begin = i;
    while (i < n && mask[i] != 0) i++;
    out_rows[2 * pairs] = begin + 1;
    out_rows[2 * pairs + 1] = i - begin;
    pairs++;
    area += i - begin;
    int ya = begin / width, yb = (i - 1) / width;
    int xa = begin - ya * width, xb = (i - 1) - yb * width;
    if (ya < y0) y0 = ya;
    if (yb > y1) y1 = yb;
    if (ya != yb) {
      /* a run across rows covers the end of one row and the start of the next */
      xa = 0;
      xb = width - 1;
    }
    if (xa < x0) x0 = xa;
    if (xb > x1) x1 = xb;
  }
  int bx = 0, by = 0, bw = 0, bh = 0;
  if (x1 >= 0) {
    bx = x0;
    by = y0;
    bw = x1 - x0 + 1;
    bh = y1 - y0 + 1;
  }
  int count = 0;
  if (want_cols) {
    /* Outside the box every pixel is 0: only the box is walked pixel by pixel. */
    int previous = 0, run = 0;
    add_run(0, bx * height, &previous, &run, out_cols, &count);
    for (int x = bx; x < bx + bw; x++) {
      add_run(0, by, &previous, &run, out_cols, &count);
      for (int y = by, j = by * width + x; y < by + bh; y++, j += width) {
        int v = mask[j] != 0;
        if (v != previous) {
          out_cols[count++] = run;
          run = 0;
          previous = v;
        }
        run++;
      }
      add_run(0, height - by - bh, &previous, &run, out_cols, &count);
    }
    add_run(0, (width - bx - bw) * height, &previous, &run, out_cols, &count);
    out_cols[count++] = run;
  }
  stats[0] = pairs;
  stats[1] = count;
  stats[2] = area;
  stats[3] = bx;
  stats[4] = by;
  stats[5] = bw;
  stats[6] = bh;
}
