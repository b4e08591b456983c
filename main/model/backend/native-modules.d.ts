/**
 * Minimal types for the optional native tfjs backends. Both are optionalDependencies that fail to install
 * where libtensorflow cannot be downloaded, so tsc must not depend on their own typings; select.ts imports
 * them dynamically and only reads these fields.
 */
declare module '@tensorflow/tfjs-node-gpu' {
  export const version: Record<string, string>;
}
declare module '@tensorflow/tfjs-node' {
  export const version: Record<string, string>;
}
