/** The API client the stores use; set once at start-up (or by a test with a fake). */
import type { TractusApi } from '../../preload/api';

let current: TractusApi | null = null;

export function setApi(api: TractusApi): void {
  current = api;
}

export function api(): TractusApi {
  if (!current) throw new Error('API client not set: call setApi() at start-up');
  return current;
}
