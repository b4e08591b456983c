/** Electron IPC channel names shared by preload/index.ts and main/app (pure constants). */
export const CALL_CHANNEL = 'tractus:call';
export const EVENT_CHANNEL_PREFIX = 'tractus:event:';
