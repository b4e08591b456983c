/** App-wide state: engine info, settings, language, and the last error to show. */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AppInfo, Settings } from '../../preload/api';
import { api } from './api';
import type { ApiError } from '../lib/http-client';

export const useAppStore = defineStore('app', () => {
  const info = ref<AppInfo | null>(null);
  const settings = ref<Settings | null>(null);
  const error = ref<string | null>(null);
  const notice = ref<string | null>(null);

  async function load(): Promise<void> {
    settings.value = await api().call('settings:get', {});
    // Backend start-up can take a moment (wasm); the UI works meanwhile.
    void api()
      .call('app:info', {})
      .then((i) => (info.value = i))
      .catch(report);
  }

  async function refreshSettings(): Promise<void> {
    settings.value = await api().call('settings:get', {});
  }

  async function updateSettings(patch: Partial<Settings>): Promise<void> {
    settings.value = await api().call('settings:set', patch);
  }

  function report(e: unknown): void {
    // Both transports attach `where`/`problem` to input errors (ApiError over HTTP, a plain Error over IPC).
    const detail = e as Partial<ApiError>;
    if (detail.where && detail.problem) error.value = `${detail.where}: ${detail.problem}`;
    else error.value = e instanceof Error ? e.message : String(e);
  }

  function say(text: string): void {
    notice.value = text;
    setTimeout(() => {
      if (notice.value === text) notice.value = null;
    }, 4000);
  }

  return { info, settings, error, notice, load, refreshSettings, updateSettings, report, say };
});
