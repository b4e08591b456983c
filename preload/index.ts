/**
 * The preload script: the only renderer-side code that touches Electron. Exposes preload/api's TractusApi as
 * `window.tractus` through contextBridge; every call goes to main's validated handlers over one IPC channel.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  BRIDGE_NAME,
  type ArgsOf,
  type Channel,
  type EventName,
  type Events,
  type ResultOf,
  type TractusApi,
} from './api';
import { CALL_CHANNEL, EVENT_CHANNEL_PREFIX } from './ipc-channels';

const api: TractusApi = {
  transport: 'electron',
  call<C extends Channel>(channel: C, args: ArgsOf<C>): Promise<ResultOf<C>> {
    return ipcRenderer.invoke(CALL_CHANNEL, channel, args).then((reply: { ok: boolean; value: unknown }) => {
      if (!reply.ok) {
        const err = reply.value as { error: string; where?: string; problem?: string };
        throw Object.assign(new Error(err.error), { where: err.where, problem: err.problem });
      }
      return reply.value as ResultOf<C>;
    });
  },
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    const wrapped = (_e: IpcRendererEvent, payload: Events[E]) => listener(payload);
    ipcRenderer.on(EVENT_CHANNEL_PREFIX + event, wrapped);
    return () => ipcRenderer.removeListener(EVENT_CHANNEL_PREFIX + event, wrapped);
  },
};

contextBridge.exposeInMainWorld(BRIDGE_NAME, api);
