/**
 * Where the tfjs-backend-wasm binaries live. Electron cannot load a .wasm from inside app.asar, so the
 * packager copies this folder to app.asar.unpacked; wasmDir() follows it there.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The three binaries tfjs-backend-wasm picks from (plain, SIMD, SIMD + threads). */
export const WASM_BINARIES = [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
] as const;

/** Absolute folder (with trailing separator) holding WASM_BINARIES; TRACTUS_WASM_DIR overrides it. */
export function wasmDir(): string {
  const override = process.env.TRACTUS_WASM_DIR;
  const dir = override ? path.resolve(override) : packageDistDir();
  const unpacked = dir.replace(/app\.asar([\\/])/, 'app.asar.unpacked$1');
  const chosen = unpacked !== dir && existsSync(unpacked) ? unpacked : dir;
  return chosen.endsWith(path.sep) ? chosen : chosen + path.sep;
}

function packageDistDir(): string {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('@tensorflow/tfjs-backend-wasm/package.json');
  return path.join(path.dirname(pkgJson), 'dist');
}
