/**
 * A mask map that decodes on demand. The full Kaggle train.csv describes ~38,000 slices: decoded up front
 * that is gigabytes of bytes, while the RLE text is a few megabytes. Entries added with `setLazy` are
 * decoded on every `get` (not cached, so memory stays bounded); `set` stores a decoded value as usual.
 */
import type { SliceMasks } from '../core/types';

const PENDING: SliceMasks = Object.freeze({});

export class LazyMaskMap extends Map<string, SliceMasks> {
  private readonly decoders = new Map<string, () => SliceMasks>();

  setLazy(id: string, decode: () => SliceMasks): this {
    this.decoders.set(id, decode);
    super.set(id, PENDING);
    return this;
  }

  override get(id: string): SliceMasks | undefined {
    const decode = this.decoders.get(id);
    return decode ? decode() : super.get(id);
  }

  override set(id: string, masks: SliceMasks): this {
    this.decoders?.delete(id); // undefined while the base constructor runs
    return super.set(id, masks);
  }

  override delete(id: string): boolean {
    this.decoders.delete(id);
    return super.delete(id);
  }

  override clear(): void {
    this.decoders.clear();
    super.clear();
  }

  override *entries(): MapIterator<[string, SliceMasks]> {
    for (const id of super.keys()) yield [id, this.get(id)!];
  }

  override *values(): MapIterator<SliceMasks> {
    for (const id of super.keys()) yield this.get(id)!;
  }

  override [Symbol.iterator](): MapIterator<[string, SliceMasks]> {
    return this.entries();
  }

  override forEach(
    fn: (value: SliceMasks, key: string, map: Map<string, SliceMasks>) => void,
    thisArg?: unknown,
  ): void {
    for (const [id, masks] of this.entries()) fn.call(thisArg, masks, id, this);
  }
}
