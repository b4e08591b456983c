/** Electron IPC wiring: one invoke channel dispatching to the transport-free handlers; events to all windows. */
import { ipcMain, webContents } from 'electron';
import type { EventName, Events } from '../../preload/api';
import { CALL_CHANNEL, EVENT_CHANNEL_PREFIX } from '../../preload/ipc-channels';
import { isInputError } from '../core/errors';
import { isChannel, type Handlers } from '../ipc/handlers';

export function broadcast<E extends EventName>(event: E, payload: Events[E]): void {
  for (const wc of webContents.getAllWebContents()) {
    if (!wc.isDestroyed()) wc.send(EVENT_CHANNEL_PREFIX + event, payload);
  }
}

/** Errors cross the bridge as values ({ok:false}) so the renderer gets `where`/`problem`, not a stack. */
export function wireIpc(handlers: Handlers, isTrustedSender: (url: string) => boolean): void {
  ipcMain.handle(CALL_CHANNEL, async (event, channel: unknown, args: unknown) => {
    if (!isTrustedSender(event.senderFrame?.url ?? ''))
      return { ok: false, value: { error: 'untrusted sender' } };
    if (typeof channel !== 'string' || !isChannel(channel)) {
      return { ok: false, value: { error: `unknown channel ${String(channel)}` } };
    }
    try {
      return { ok: true, value: await handlers[channel](args) };
    } catch (e) {
      if (isInputError(e))
        return { ok: false, value: { error: e.message, where: e.where, problem: e.problem } };
      console.error(`tractus: ${channel} failed`, e);
      return { ok: false, value: { error: `internal error in ${channel}: ${(e as Error).message}` } };
    }
  });
}
