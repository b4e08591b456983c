/**
 * A scriptable TractusApi for renderer tests: records every call, answers from per-channel handlers (a
 * small two-day patient by default), and lets a test push events as the engine would.
 */
import type {
  ArgsOf,
  Channel,
  DatasetSummary,
  EventName,
  Events,
  ResultOf,
  ScanSummary,
  TractusApi,
} from '../../preload/api';
import { encodeSliceImage } from '../../preload/wire';

export const W = 8;
export const H = 6;

function scanSummary(id: string, day: string, n: number, thickness: number | null): ScanSummary {
  return {
    id,
    patientId: 'case1',
    day,
    width: W,
    height: H,
    pixelSpacing: [1.5, 1.5],
    sliceThickness: thickness,
    approved: false,
    slices: Array.from({ length: n }, (_, i) => ({
      id: `${id}_slice_${String(i + 1).padStart(4, '0')}`,
      number: i + 1,
      state: 'auto' as const,
      positionMm: thickness === null ? null : (i + 1) * thickness,
      organs: [],
    })),
  };
}

/** case1 day1: 5 slices of 3 mm; day2: 7 slices of 2.5 mm (positions 3…15 mm and 2.5…17.5 mm). */
export function twoDaySummary(): DatasetSummary {
  return {
    root: '/data/fake',
    demo: true,
    workspace: '/ws',
    warnings: [],
    patients: [
      {
        id: 'case1',
        days: [
          { day: 'day1', scans: [scanSummary('case1_day1', 'day1', 5, 3)] },
          { day: 'day2', scans: [scanSummary('case1_day2', 'day2', 7, 2.5)] },
        ],
      },
    ],
  };
}

type HandlerMap = { [C in Channel]?: (args: ArgsOf<C>) => ResultOf<C> | Promise<ResultOf<C>> };

export class FakeApi implements TractusApi {
  readonly transport = 'http' as const;
  readonly calls: Array<{ channel: Channel; args: unknown }> = [];
  private readonly listeners = new Map<EventName, Set<(payload: never) => void>>();
  saves = 0;

  readonly handlers: HandlerMap = {
    'settings:get': () => ({
      locale: 'en',
      recentFolders: [],
      overlayOpacity: 0.45,
      overlayStyle: 'fill',
      zoom: 1,
      roiNames: {},
    }),
    'dataset:openDemo': () => this.summary,
    'dataset:current': () => this.summary,
    'scan:slice': ({ index }) =>
      encodeSliceImage({
        width: W,
        height: H,
        data: Uint16Array.from({ length: W * H }, (_, k) => 100 * index + k * 10),
      }),
    'masks:get': ({ scanId }) => {
      const scan = this.summary.patients[0]!.days.flatMap((d) => d.scans).find((s) => s.id === scanId)!;
      return {
        scanId,
        masks: {},
        sources: Object.fromEntries(scan.slices.map((s) => [s.id, 'none' as const])),
        states: {},
        approved: false,
        base: 'truth' as const,
        layers: [],
        shelved: [],
        baseMasks: {},
        viewed: [],
      };
    },
    'masks:save': ({ state }) => ({ version: ++this.saves, state: state ?? 'edited' }),
    'scan:volumes': ({ scanId }) => ({
      scanId,
      ml: { large_bowel: 0, small_bowel: 0, stomach: 0 },
      voxels: { large_bowel: 0, small_bowel: 0, stomach: 0 },
    }),
    'jobs:list': () => [],
    'models:list': () => [],
  };

  constructor(public summary: DatasetSummary = twoDaySummary()) {}

  call<C extends Channel>(channel: C, args: ArgsOf<C>): Promise<ResultOf<C>> {
    this.calls.push({ channel, args });
    const handler = this.handlers[channel] as ((a: ArgsOf<C>) => ResultOf<C>) | undefined;
    if (!handler) return Promise.reject(new Error(`fake API: no handler for ${channel}`));
    try {
      return Promise.resolve(handler(args));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener as (payload: never) => void);
    this.listeners.set(event, set);
    return () => set.delete(listener as (payload: never) => void);
  }

  /** Push an event as the engine would. */
  emit<E extends EventName>(event: E, payload: Events[E]): void {
    for (const l of this.listeners.get(event) ?? []) (l as (p: Events[E]) => void)(payload);
  }

  callsOf<C extends Channel>(channel: C): Array<ArgsOf<C>> {
    return this.calls.filter((c) => c.channel === channel).map((c) => c.args as ArgsOf<C>);
  }
}

/** Let pending promise callbacks run (several rounds: store actions chain a few awaits). */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
