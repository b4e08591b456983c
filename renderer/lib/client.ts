/** Pick the transport at start-up: the Electron preload bridge when present, else the loopback HTTP server. */
import { BRIDGE_NAME, type TractusApi } from '../../preload/api';
import { createHttpClient } from './http-client';

export function createClient(): TractusApi {
  const bridge = (window as unknown as Record<string, TractusApi | undefined>)[BRIDGE_NAME];
  return bridge ?? createHttpClient();
}
