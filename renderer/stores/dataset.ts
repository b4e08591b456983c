/**
 * The open dataset and the scan under review: slices (cached), masks being edited, undo per scan and
 * autosave. Masks are plain typed arrays outside Vue's reactivity (they are large); `maskVersion` is bumped
 * on every change so views redraw.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { ORGANS, type Organ } from '../../main/core/organs';
import type { SliceImage } from '../../main/core/types';
import type {
  ApproveResult,
  DatasetSummary,
  MaskSource,
  OrganVolumes,
  ScanMasks,
  ScanSummary,
  SliceMasksWire,
  SliceState,
} from '../../preload/api';
import { decodeMask, decodeSliceImage, encodeMask } from '../../preload/wire';
import { UndoHistory, type MaskChange, type UndoAction } from '../lib/undo';
import { stateAfterChange, stateBeforeEdits } from '../lib/edit-state';
import type { OrganMasks } from '../lib/layer-diff';
import { interpolateMasks } from '../lib/interpolate';
import { linkedSliceIndex } from '../lib/linked-slices';
import { api } from './api';
import { useAppStore } from './app';

export interface LoadedSlice {
  image: SliceImage;
  low: number;
  high: number;
}

export type { OrganMasks };

export interface LoadedScanMasks {
  masks: Map<string, OrganMasks>;
  sources: Record<string, MaskSource>;
  states: Record<string, SliceState>;
  approved: boolean;
  /** The layer's masks under each slice (ground truth or a model run): equal masks are no edit. */
  base: Map<string, SliceMasksWire | undefined>;
  baseSources: Record<string, MaskSource>;
  /** The state each edited slice had before its first edit, to return to when the edit is undone. */
  statesBeforeEdits: Map<string, SliceState>;
  /** The working contour's layer and the other layers of the scan (see preload/api ScanMasks). */
  layers: Pick<ScanMasks, 'base' | 'layers' | 'shelved' | 'viewed'>;
}

export const AUTOSAVE_DELAY_MS = 400;
const SLICE_CACHE_SIZE = 200;

export const useDatasetStore = defineStore('dataset', () => {
  const summary = shallowRef<DatasetSummary | null>(null);
  const scanId = ref<string | null>(null);
  const sliceIndex = ref(0);
  const compareScanId = ref<string | null>(null);
  const maskVersion = ref(0);
  const sliceVersion = ref(0);
  const saveStatus = ref<'saved' | 'pending' | 'saving' | 'error'>('saved');
  const volumes = ref<OrganVolumes | null>(null);

  const sliceCache = new Map<string, LoadedSlice>();
  const inflight = new Map<string, Promise<LoadedSlice>>();
  /** Why a slice could not be loaded (a truncated file…), so its viewer shows that instead of "Loading…". */
  const sliceErrors = new Map<string, string>();
  const scanMasks = new Map<string, LoadedScanMasks>();
  const undo = new UndoHistory();
  const pendingSaves = new Map<string, { scanId: string; timer: ReturnType<typeof setTimeout> }>();
  let savesInFlight: Promise<unknown> = Promise.resolve();

  const scans = computed<ScanSummary[]>(() =>
    (summary.value?.patients ?? []).flatMap((p) => p.days.flatMap((d) => d.scans)),
  );
  const scan = computed(() => scans.value.find((s) => s.id === scanId.value) ?? null);
  const compareScan = computed(() => scans.value.find((s) => s.id === compareScanId.value) ?? null);
  const slice = computed(() => scan.value?.slices[sliceIndex.value] ?? null);

  async function adopt(next: DatasetSummary): Promise<void> {
    summary.value = next;
    sliceCache.clear();
    sliceErrors.clear();
    scanMasks.clear();
    undo.clear();
    const first = next.patients[0]?.days[0]?.scans[0];
    scanId.value = null;
    compareScanId.value = null;
    if (first) await selectScan(first.id);
  }

  async function openDemo(): Promise<void> {
    await adopt(await api().call('dataset:openDemo', {}));
  }

  async function openFolder(path: string): Promise<void> {
    await adopt(await api().call('dataset:open', { path }));
  }

  async function restore(): Promise<boolean> {
    const current = await api().call('dataset:current', {});
    if (current) await adopt(current);
    return current !== null;
  }

  async function refreshSummary(): Promise<void> {
    const current = await api().call('dataset:current', {});
    if (current) summary.value = current;
  }

  async function selectScan(id: string, index?: number): Promise<void> {
    const target = scans.value.find((s) => s.id === id);
    if (!target) return;
    scanId.value = id;
    sliceIndex.value = index ?? Math.floor(target.slices.length / 2);
    await loadMasks(id);
    await loadSlice(id, sliceIndex.value);
    // Side by side: the same patient's other day, when there is one.
    const others = scans.value.filter((s) => s.patientId === target.patientId && s.id !== id);
    compareScanId.value = others[0]?.id ?? null;
    if (compareScanId.value) await loadMasks(compareScanId.value);
    void refreshVolumes();
  }

  function setSlice(i: number): void {
    const n = scan.value?.slices.length ?? 0;
    if (n === 0) return;
    sliceIndex.value = Math.max(0, Math.min(n - 1, Math.round(i)));
    if (scanId.value) void loadSlice(scanId.value, sliceIndex.value).catch(useAppStore().report);
  }

  function step(delta: number): void {
    setSlice(sliceIndex.value + delta);
  }

  /** The slice of another scan at the same millimetre position (linked scrolling of two days). */
  function linkedIndex(other: ScanSummary): number {
    return scan.value ? linkedSliceIndex(scan.value, sliceIndex.value, other) : 0;
  }

  function cachedSlice(id: string, index: number): LoadedSlice | undefined {
    return sliceCache.get(`${id}/${index}`);
  }

  function sliceError(id: string, index: number): string | undefined {
    return sliceErrors.get(`${id}/${index}`);
  }

  function loadSlice(id: string, index: number): Promise<LoadedSlice> {
    const key = `${id}/${index}`;
    const hit = sliceCache.get(key);
    if (hit) return Promise.resolve(hit);
    const pending = inflight.get(key);
    if (pending) return pending;
    const p = api()
      .call('scan:slice', { scanId: id, index })
      .then((wire) => {
        const loaded = { image: decodeSliceImage(wire), low: wire.low, high: wire.high };
        if (sliceCache.size >= SLICE_CACHE_SIZE) sliceCache.delete(sliceCache.keys().next().value!);
        sliceCache.set(key, loaded);
        sliceVersion.value++;
        return loaded;
      })
      .catch((e: unknown) => {
        sliceErrors.set(key, e instanceof Error ? e.message : String(e));
        sliceVersion.value++;
        throw e;
      })
      .finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  }

  async function loadMasks(id: string): Promise<LoadedScanMasks> {
    const res = await api().call('masks:get', { scanId: id });
    const masks = new Map<string, OrganMasks>();
    for (const [sliceId, wire] of Object.entries(res.masks)) {
      const organs: OrganMasks = {};
      for (const organ of ORGANS) {
        const m = wire[organ];
        if (m) organs[organ] = decodeMask(m, `${sliceId} ${organ}`).data;
      }
      masks.set(sliceId, organs);
    }
    const base = new Map<string, SliceMasksWire | undefined>();
    const baseSources: Record<string, MaskSource> = {};
    const layerSource: MaskSource = res.base === 'truth' ? 'ground-truth' : 'prediction';
    for (const [sliceId, source] of Object.entries(res.sources)) {
      const edited = source === 'workspace';
      base.set(sliceId, edited ? res.baseMasks[sliceId] : res.masks[sliceId]);
      baseSources[sliceId] = edited ? (res.baseMasks[sliceId] ? layerSource : 'none') : source;
    }
    const loaded: LoadedScanMasks = {
      masks,
      sources: res.sources,
      states: res.states,
      approved: res.approved,
      base,
      baseSources,
      statesBeforeEdits: new Map(),
      layers: { base: res.base, layers: res.layers, shelved: res.shelved, viewed: res.viewed },
    };
    scanMasks.set(id, loaded);
    maskVersion.value++;
    return loaded;
  }

  function masksOf(id: string, sliceId: string): OrganMasks | undefined {
    return scanMasks.get(id)?.masks.get(sliceId);
  }

  function stateOf(id: string, sliceId: string): SliceState {
    return scanMasks.get(id)?.states[sliceId] ?? 'auto';
  }

  /** The working contour's layer and the scan's other layers, as last loaded. */
  function layersOf(id: string): LoadedScanMasks['layers'] | undefined {
    void maskVersion.value;
    return scanMasks.get(id)?.layers;
  }

  /** Forget the undo history (the working contour was replaced by another layer: old masks no longer apply). */
  function forgetUndo(): void {
    undo.clear();
    maskVersion.value++;
  }

  function sourceOf(id: string, sliceId: string): MaskSource {
    return scanMasks.get(id)?.sources[sliceId] ?? 'none';
  }

  /** The active scan's mask for one organ on the current slice, created empty when absent. */
  function editableMask(organ: Organ): Uint8Array | null {
    const s = scan.value;
    const sl = slice.value;
    if (!s || !sl) return null;
    const loaded = scanMasks.get(s.id);
    if (!loaded) return null;
    let organs = loaded.masks.get(sl.id);
    if (!organs) {
      organs = {};
      loaded.masks.set(sl.id, organs);
    }
    let m = organs[organ];
    if (!m) {
      m = new Uint8Array(s.width * s.height);
      organs[organ] = m;
    }
    return m;
  }

  /**
   * Apply an edit to an organ on the current slice: `edit` changes the mask in place and returns how many
   * pixels it changed; nothing changed means nothing to undo or save.
   */
  function edit(organ: Organ, apply: (mask: Uint8Array) => number): number {
    const mask = editableMask(organ);
    const s = scan.value;
    const sl = slice.value;
    if (!mask || !s || !sl) return 0;
    const before = mask.slice();
    const changed = apply(mask);
    if (changed === 0) return 0;
    undo.record(s.id, [{ sliceId: sl.id, organ, before, after: mask }]);
    afterEdit(s.id, sl.id);
    return changed;
  }

  /** The stroke in progress: one undo step per stroke, not per mouse move. */
  let stroke: { scanId: string; sliceId: string; organ: Organ; before: Uint8Array } | null = null;

  function beginStroke(organ: Organ): void {
    const mask = editableMask(organ);
    const s = scan.value;
    const sl = slice.value;
    stroke = mask && s && sl ? { scanId: s.id, sliceId: sl.id, organ, before: mask.slice() } : null;
  }

  function strokeChanged(): void {
    maskVersion.value++;
  }

  function endStroke(): void {
    if (!stroke) return;
    const { scanId: id, sliceId, organ, before } = stroke;
    stroke = null;
    const after = masksOf(id, sliceId)?.[organ];
    if (after && undo.record(id, [{ sliceId, organ, before, after }])) afterEdit(id, sliceId);
  }

  /**
   * After masks of a slice changed: the slice is edited only while its masks differ from its layer's;
   * back to them, it is as it was before the first edit (and its saved edit is dropped).
   */
  function afterEdit(id: string, sliceId: string): void {
    const loaded = scanMasks.get(id);
    if (!loaded) return;
    const current = loaded.states[sliceId] ?? 'auto';
    const before = stateBeforeEdits(current, loaded.statesBeforeEdits.get(sliceId));
    loaded.statesBeforeEdits.set(sliceId, before);
    const state = stateAfterChange(wireOf(id, sliceId), loaded.base.get(sliceId), before);
    loaded.states[sliceId] = state;
    loaded.sources[sliceId] = state === 'edited' ? 'workspace' : (loaded.baseSources[sliceId] ?? 'none');
    maskVersion.value++;
    scheduleSave(id, sliceId);
  }

  function applyAction(id: string, action: UndoAction, side: 'before' | 'after'): void {
    const loaded = scanMasks.get(id);
    if (!loaded) return;
    for (const change of action) {
      const organs = loaded.masks.get(change.sliceId) ?? {};
      organs[change.organ] = change[side].slice();
      loaded.masks.set(change.sliceId, organs);
    }
    for (const sliceId of new Set(action.map((c) => c.sliceId))) afterEdit(id, sliceId);
    // Show what was undone: the slice of the action's first change, when it is elsewhere.
    const target = scans.value.find((x) => x.id === id)?.slices.findIndex((x) => x.id === action[0]!.sliceId);
    if (
      id === scanId.value &&
      target !== undefined &&
      target >= 0 &&
      !action.some((c) => c.sliceId === slice.value?.id)
    ) {
      setSlice(target);
    }
  }

  /** Undo or redo the clinician's last action on this scan, whatever organ or slice it touched. */
  function restoreMask(kind: 'undo' | 'redo', _organ?: Organ): boolean {
    const id = scanId.value;
    if (!id) return false;
    const action = kind === 'undo' ? undo.undo(id) : undo.redo(id);
    if (!action) return false;
    applyAction(id, action, kind === 'undo' ? 'before' : 'after');
    return true;
  }

  function canUndo(_organ?: Organ): boolean {
    void maskVersion.value;
    return scanId.value ? undo.canUndo(scanId.value) : false;
  }

  function canRedo(_organ?: Organ): boolean {
    void maskVersion.value;
    return scanId.value ? undo.canRedo(scanId.value) : false;
  }

  function wireOf(id: string, sliceId: string): SliceMasksWire {
    const s = scans.value.find((x) => x.id === id)!;
    const out: SliceMasksWire = {};
    for (const organ of ORGANS) {
      const m = masksOf(id, sliceId)?.[organ];
      if (m && m.some((v) => v !== 0)) out[organ] = encodeMask({ width: s.width, height: s.height, data: m });
    }
    return out;
  }

  function scheduleSave(id: string, sliceId: string): void {
    const existing = pendingSaves.get(sliceId);
    if (existing) clearTimeout(existing.timer);
    saveStatus.value = 'pending';
    pendingSaves.set(sliceId, {
      scanId: id,
      timer: setTimeout(() => void saveNow(sliceId), AUTOSAVE_DELAY_MS),
    });
  }

  async function saveNow(sliceId: string): Promise<void> {
    const pending = pendingSaves.get(sliceId);
    if (!pending) return;
    clearTimeout(pending.timer);
    pendingSaves.delete(sliceId);
    saveStatus.value = 'saving';
    const state = stateOf(pending.scanId, sliceId);
    const job = savesInFlight.then(() =>
      api().call('masks:save', {
        scanId: pending.scanId,
        sliceId,
        masks: wireOf(pending.scanId, sliceId),
        state: state === 'auto' ? 'edited' : state,
      }),
    );
    savesInFlight = job.catch(() => undefined);
    try {
      await job;
      if (pendingSaves.size === 0) saveStatus.value = 'saved';
      void refreshVolumes();
    } catch (e) {
      saveStatus.value = 'error';
      useAppStore().report(e);
    }
  }

  /** Save every pending edit now (Ctrl+S, before closing, before export/training). */
  async function flush(): Promise<void> {
    await Promise.all([...pendingSaves.keys()].map((id) => saveNow(id)));
    await savesInFlight;
  }

  async function setSliceState(state: SliceState): Promise<void> {
    const s = scan.value;
    const sl = slice.value;
    if (!s || !sl) return;
    await flush();
    const res = await api().call('slice:setState', { scanId: s.id, sliceId: sl.id, state });
    scanMasks.get(s.id)!.states[sl.id] = res.state;
    maskVersion.value++;
  }

  /**
   * Approve (or withdraw) the active scan: the approval covers `viewed` slices (and those recorded
   * before) unless `includeUnviewed`; see renderer/stores/review for the question asked first.
   */
  async function approveScan(
    approved: boolean,
    opts: { viewed?: string[]; includeUnviewed?: boolean } = {},
  ): Promise<ApproveResult | null> {
    const s = scan.value;
    if (!s) return null;
    await flush();
    const result = await api().call('scan:approve', { scanId: s.id, approved, ...opts });
    await loadMasks(s.id);
    await refreshSummary();
    return result;
  }

  /**
   * Fill the slices between the nearest edited slices above and below the current one for the active organ,
   * by shape-based interpolation. Returns the number of slices filled.
   */
  function interpolateOrgan(organ: Organ): number {
    const s = scan.value;
    if (!s) return 0;
    const loaded = scanMasks.get(s.id);
    if (!loaded) return 0;
    const edited = (i: number) => {
      const id = s.slices[i]!.id;
      return (
        loaded.states[id] !== undefined && loaded.states[id] !== 'auto' && !!loaded.masks.get(id)?.[organ]
      );
    };
    let lo = sliceIndex.value;
    while (lo >= 0 && !edited(lo)) lo--;
    let hi = edited(sliceIndex.value) ? sliceIndex.value + 1 : sliceIndex.value;
    while (hi < s.slices.length && !edited(hi)) hi++;
    if (lo < 0 || hi >= s.slices.length || hi - lo < 2) return 0;
    const a = loaded.masks.get(s.slices[lo]!.id)![organ]!;
    const b = loaded.masks.get(s.slices[hi]!.id)![organ]!;
    const filled = interpolateMasks(
      { width: s.width, height: s.height, data: a },
      { width: s.width, height: s.height, data: b },
      hi - lo - 1,
    );
    // One action: a single Ctrl+Z takes back the whole interpolation.
    const changes: MaskChange[] = filled.map((m, k) => {
      const id = s.slices[lo + 1 + k]!.id;
      const organs = loaded.masks.get(id) ?? {};
      const before = organs[organ] ?? new Uint8Array(m.length);
      organs[organ] = m;
      loaded.masks.set(id, organs);
      return { sliceId: id, organ, before, after: m };
    });
    undo.record(s.id, changes);
    for (const c of changes) afterEdit(s.id, c.sliceId);
    return filled.length;
  }

  async function refreshVolumes(): Promise<void> {
    if (!scanId.value) return;
    volumes.value = await api().call('scan:volumes', { scanId: scanId.value });
  }

  return {
    summary,
    scans,
    scan,
    scanId,
    slice,
    sliceIndex,
    compareScan,
    compareScanId,
    maskVersion,
    sliceVersion,
    saveStatus,
    volumes,
    openDemo,
    openFolder,
    restore,
    refreshSummary,
    selectScan,
    setSlice,
    step,
    linkedIndex,
    cachedSlice,
    sliceError,
    loadSlice,
    loadMasks,
    masksOf,
    stateOf,
    sourceOf,
    layersOf,
    forgetUndo,
    edit,
    beginStroke,
    strokeChanged,
    endStroke,
    restoreMask,
    canUndo,
    canRedo,
    flush,
    setSliceState,
    approveScan,
    interpolateOrgan,
    refreshVolumes,
    editableMask,
  };
});
