/**
 * The review workflow around the editor: which slices a person was shown, the questions asked before
 * model output replaces human contours or a scan is approved with slices nobody looked at, and the
 * contour layers (imported truth, model runs) shown beside or against the working contour.
 */
import { defineStore } from 'pinia';
import { ref, shallowRef, watch } from 'vue';
import { ORGANS } from '../../main/core/organs';
import type { ApproveResult, HumanContours, LayerId } from '../../preload/api';
import { decodeMask } from '../../preload/wire';
import { api } from './api';
import { useAppStore } from './app';
import { useDatasetStore, type OrganMasks } from './dataset';
import { useJobsStore } from './jobs';

export type CompareMode = 'side' | 'difference';
type Scope = 'scan' | 'patient' | 'dataset';

export const useReviewStore = defineStore('review', () => {
  const dataset = useDatasetStore();
  /** Slices shown on screen, by scan (those recorded in the workspace are added when a scan loads). */
  const viewed = new Map<string, Set<string>>();
  const viewedVersion = ref(0);
  /** A segmentation waiting for the user's answer: the human contours it would replace. */
  const pendingSegment = ref<{ scope: Scope; id?: string; contours: HumanContours[] } | null>(null);
  /** An approval waiting for the user's answer: slices shown and never shown. */
  const pendingApproval = ref<{ scanId: string; viewed: number; unviewed: number } | null>(null);
  const lastApproval = ref<ApproveResult | null>(null);
  const compareLayer = ref<LayerId | null>(null);
  const compareMode = ref<CompareMode>('side');
  const layerMasks = shallowRef(new Map<string, Map<string, OrganMasks>>());

  function viewedOf(scanId: string): Set<string> {
    let set = viewed.get(scanId);
    if (!set) {
      set = new Set(dataset.layersOf(scanId)?.viewed ?? []);
      viewed.set(scanId, set);
    }
    return set;
  }

  function markViewed(): void {
    const s = dataset.scan;
    const sl = dataset.slice;
    // A slice counts as shown once its pixels are on screen, not while it is still loading.
    if (!s || !sl || !dataset.cachedSlice(s.id, dataset.sliceIndex)) return;
    const set = viewedOf(s.id);
    if (!set.has(sl.id)) {
      set.add(sl.id);
      viewedVersion.value++;
    }
  }

  watch(() => [dataset.scanId, dataset.sliceIndex, dataset.sliceVersion], markViewed);
  watch(
    () => dataset.summary,
    (now, before) => {
      layerMasks.value = new Map();
      viewedVersion.value++;
      if (!now || now.root !== before?.root) {
        viewed.clear();
        compareLayer.value = null;
        return;
      }
      // A refresh of the same dataset (e.g. after a segmentation job) keeps what was shown and the
      // comparison the clinician chose, as long as its layer still exists; its masks are read again.
      const id = dataset.scanId;
      const layer = compareLayer.value;
      if (!id || !layer) return;
      if (dataset.layersOf(id)?.layers.some((l) => l.id === layer)) {
        void loadLayer(id, layer).catch(useAppStore().report);
      } else compareLayer.value = null;
    },
  );

  function unviewedCount(scanId: string): number {
    void viewedVersion.value;
    const s = dataset.scans.find((x) => x.id === scanId);
    if (!s) return 0;
    for (const id of dataset.layersOf(scanId)?.viewed ?? []) viewedOf(scanId).add(id);
    const set = viewedOf(scanId);
    return s.slices.filter((x) => !set.has(x.id)).length;
  }

  /** Segment, first asking when human contours would be replaced (see confirmSegment). */
  async function requestSegment(scope: Scope, id?: string): Promise<void> {
    await dataset.flush();
    const contours = await api().call('segment:check', { scope, ...(id ? { id } : {}) });
    if (contours.length === 0) {
      await useJobsStore().segment(scope, id);
      return;
    }
    pendingSegment.value = { scope, ...(id ? { id } : {}), contours };
  }

  /** The answer: replace (kept as layers, restorable), add the run as a layer only, or cancel (null). */
  async function confirmSegment(answer: 'replace' | 'layer' | null): Promise<void> {
    const pending = pendingSegment.value;
    pendingSegment.value = null;
    if (!pending || answer === null) return;
    if (answer === 'replace') dataset.forgetUndo();
    await useJobsStore().segment(pending.scope, pending.id, false, answer === 'replace');
  }

  /** Approve the active scan; asks first when some slices were never shown (see confirmApproval). */
  async function requestApproval(): Promise<void> {
    const s = dataset.scan;
    if (!s) return;
    markViewed();
    const unviewed = unviewedCount(s.id);
    if (unviewed === 0) {
      await approve(s.id, false);
      return;
    }
    pendingApproval.value = { scanId: s.id, viewed: s.slices.length - unviewed, unviewed };
  }

  async function approve(scanId: string, includeUnviewed: boolean): Promise<void> {
    lastApproval.value = await dataset.approveScan(true, {
      viewed: [...viewedOf(scanId)],
      ...(includeUnviewed ? { includeUnviewed } : {}),
    });
  }

  /** The answer: approve only the viewed slices, all of them anyway, or cancel (null). */
  async function confirmApproval(answer: 'viewed' | 'all' | null): Promise<void> {
    const pending = pendingApproval.value;
    pendingApproval.value = null;
    if (!pending || answer === null || pending.scanId !== dataset.scanId) return;
    await approve(pending.scanId, answer === 'all');
  }

  /** Masks of a layer by slice id (loaded once: a layer never changes once made). */
  async function loadLayer(scanId: string, layer: LayerId): Promise<Map<string, OrganMasks>> {
    const key = `${scanId}/${layer}`;
    const hit = layerMasks.value.get(key);
    if (hit) return hit;
    const wire = await api().call('layers:masks', { scanId, layer });
    const out = new Map<string, OrganMasks>();
    for (const [sliceId, masks] of Object.entries(wire)) {
      const organs: OrganMasks = {};
      for (const organ of ORGANS) {
        const m = masks[organ];
        if (m) organs[organ] = decodeMask(m, `${sliceId} ${organ}`).data;
      }
      out.set(sliceId, organs);
    }
    layerMasks.value = new Map(layerMasks.value).set(key, out);
    return out;
  }

  function layerMasksOf(scanId: string, layer: LayerId, sliceId: string): OrganMasks | undefined {
    return layerMasks.value.get(`${scanId}/${layer}`)?.get(sliceId);
  }

  async function showLayer(layer: LayerId | null, mode?: CompareMode): Promise<void> {
    if (mode) compareMode.value = mode;
    compareLayer.value = layer;
    if (layer && dataset.scanId) await loadLayer(dataset.scanId, layer).catch(useAppStore().report);
  }

  watch(
    () => dataset.scanId,
    (id) => {
      if (id && compareLayer.value) {
        const known = dataset.layersOf(id)?.layers.some((l) => l.id === compareLayer.value);
        if (known) void loadLayer(id, compareLayer.value).catch(useAppStore().report);
        else compareLayer.value = null;
      }
    },
  );

  /** Make another layer the working contour (undo of a replacement): edits on the old one are shelved. */
  async function useLayer(layer: LayerId): Promise<void> {
    const s = dataset.scan;
    if (!s) return;
    await dataset.flush();
    await api().call('layers:use', { scanId: s.id, layer });
    dataset.forgetUndo();
    await dataset.loadMasks(s.id);
    await dataset.refreshSummary();
    await dataset.refreshVolumes();
  }

  return {
    viewedVersion,
    pendingSegment,
    pendingApproval,
    lastApproval,
    compareLayer,
    compareMode,
    layerMasks,
    unviewedCount,
    markViewed,
    requestSegment,
    confirmSegment,
    requestApproval,
    confirmApproval,
    loadLayer,
    layerMasksOf,
    showLayer,
    useLayer,
  };
});
