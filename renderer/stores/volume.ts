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
  /** Dataset root and scan id of `volume`: two folders may both hold a `case7_day1`. */
  const key = ref<string | null>(null);
  const volume = shallowRef<Volume8 | null>(null);
  let pending: Promise<void> | null = null;

  async function load(root: string, id: string): Promise<void> {
    const k = `${root}\n${id}`;
    if (key.value === k && (volume.value || pending)) return pending ?? undefined;
    key.value = k;
    volume.value = null;
    const p = api()
      .call('scan:volume', { scanId: id, size: VOLUME_SIZE })
      .then((wire) => {
        // Another scan may have been selected meanwhile.
        if (key.value === k) volume.value = decodeVolume(wire);
      })
      .finally(() => {
        if (pending === p) pending = null;
      });
    pending = p;
    return p;
  }

  /** The volume of this scan of this dataset, or null while it is on its way. */
  function of(root: string, id: string): Volume8 | null {
    return key.value === `${root}\n${id}` ? volume.value : null;
  }

  return { key, volume, load, of };
});
