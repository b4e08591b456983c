/**
 * V8 compiles typed-array code on the assumption that no ArrayBuffer has ever been detached, until one is:
 * the first transfer in a thread then throws away every optimised function that relied on it. In a fresh
 * worker that was the whole post-processing (compiled during the first batch, discarded when its answer was
 * transferred, compiled again a few slices later), each time a scan starts its workers. A thread that will
 * transfer buffers calls this before any of its code is hot, so that happens while nothing is compiled yet.
 */
export function detachOnceEarly(): void {
  const scrap = new ArrayBuffer(8);
  structuredClone(scrap, { transfer: [scrap] });
}
