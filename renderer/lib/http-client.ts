/**
 * The API over the loopback server (browser build): POST /api/<channel> for calls, one EventSource for events.
 * The token arrived in the page URL; the server turned it into a same-site cookie, so requests carry it.
 */
import type {
  ApiErrorBody,
  ArgsOf,
  Channel,
  EventName,
  Events,
  ResultOf,
  TractusApi,
} from '../../preload/api';

/** A failed call, with the server's `where` and `problem` when the input was at fault. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly where?: string,
    readonly problem?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function createHttpClient(base = '', fetchImpl: typeof fetch = (...a) => fetch(...a)): TractusApi {
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  let source: EventSource | null = null;

  function ensureEvents(): void {
    if (source || typeof EventSource === 'undefined') return;
    source = new EventSource(`${base}/api/events`);
    for (const name of ['job:update', 'train:epoch', 'menu'] satisfies EventName[]) {
      source.addEventListener(name, (e) => {
        const payload = JSON.parse((e as MessageEvent<string>).data) as unknown;
        for (const l of listeners.get(name) ?? []) l(payload);
      });
    }
  }

  return {
    transport: 'http',
    async call<C extends Channel>(channel: C, args: ArgsOf<C>): Promise<ResultOf<C>> {
      const res = await fetchImpl(`${base}/api/${channel}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        credentials: 'same-origin',
        body: JSON.stringify(args),
      });
      const body = (await res.json().catch(() => ({ error: `HTTP ${res.status}` }))) as
        { result: ResultOf<C> } | ApiErrorBody;
      if (!res.ok || 'error' in body) {
        const err = body as ApiErrorBody;
        throw new ApiError(err.error ?? `HTTP ${res.status}`, err.where, err.problem);
      }
      return body.result;
    },
    on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
      ensureEvents();
      const set = listeners.get(event) ?? new Set();
      set.add(listener as (p: unknown) => void);
      listeners.set(event, set);
      return () => set.delete(listener as (p: unknown) => void);
    },
  };
}
