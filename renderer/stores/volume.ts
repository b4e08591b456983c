/**
 * The whole scan as one small quantised volume (`scan:volume`) for the coronal and sagittal reformats,
 * fetched once per scan and only while the reformats are shown.
 */
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import { decodeVolume, type Volume8 } from '../lib/reformat';
import { api } from './api';

/** Longest in-plane side of the volume: reformat panes are a third of the screen, 256 px is plenty. */
export const VOLUME_SIZE = 256;

export const useVolumeStore = defineStore('volume', () => {
  const scanId = ref<string | null>(null);
  const volume = shallowRef<Volume8 | null>(null);
  let pending: Promise<void> | null = null;

  async function load(id: string): Promise<void> {
    if (scanId.value === id && (volume.value || pending)) return pending ?? undefined;
    scanId.value = id;
    volume.value = null;
    const p = api()
      .call('scan:volume', { scanId: id, size: VOLUME_SIZE })
      .then((wire) => {
        // Another scan may have been selected meanwhile.
        if (scanId.value === id) volume.value = decodeVolume(wire);
      })
      .finally(() => {
        if (pending === p) pending = null;
      });
    pending = p;
    return p;
  }

  return { scanId, volume, load };
});
