/** A least-recently-used cache of promises (so concurrent readers of one key share one read). */
export class LruCache<V> {
  private readonly map = new Map<string, Promise<V>>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.map.size;
  }

  getOrLoad(key: string, load: () => Promise<V>): Promise<V> {
    let p = this.map.get(key);
    if (p) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.map.delete(key);
      this.map.set(key, p);
      return p;
    }
    p = load();
    this.map.set(key, p);
    // A failed load must not stay cached: the next reader retries and sees the error itself.
    p.catch(() => {
      if (this.map.get(key) === p) this.map.delete(key);
    });
    while (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as string);
    return p;
  }
}
