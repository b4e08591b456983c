/** What every test/bench/*.bench.ts returns, and the one timing loop they share. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  note?: string;
}

/** Items per second of `fn` (each call makes `items` items), timed for about `seconds` after a warm-up call. */
export function itemsPerSecond(fn: () => void, items = 1, seconds = 0.5): number {
  fn();
  let calls = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    fn();
    calls++;
  }
  return (calls * items) / ((performance.now() - t0) / 1000);
}
