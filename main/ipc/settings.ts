/** User settings persisted as one JSON file, written atomically; unreadable or invalid files fall back to defaults. */
import { promises as fs } from 'node:fs';
import { z } from 'zod';
import type { Settings } from '../../preload/api';
import { writeJsonAtomic } from '../io/files';
import { roiNamesSchema } from './schemas';

export const DEFAULT_SETTINGS: Settings = {
  locale: 'en',
  recentFolders: [],
  overlayOpacity: 0.45,
  overlayStyle: 'fill',
  zoom: 1,
  roiNames: {},
};

const settingsFileSchema = z
  .object({
    locale: z.enum(['en', 'fr']),
    recentFolders: z.array(z.string()),
    overlayOpacity: z.number().min(0).max(1),
    overlayStyle: z.enum(['fill', 'contour']),
    zoom: z.number().positive(),
    roiNames: roiNamesSchema,
  })
  .partial();

export const MAX_RECENT = 10;

export class SettingsStore {
  private current: Settings | null = null;

  /** `onChange` hears every saved change (the desktop shell rebuilds its Open Recent menu from it). */
  constructor(
    readonly file: string,
    private readonly onChange?: (settings: Settings) => void,
  ) {}

  async get(): Promise<Settings> {
    if (this.current) return { ...this.current };
    let stored: Partial<Settings> = {};
    try {
      const parsed = settingsFileSchema.safeParse(JSON.parse(await fs.readFile(this.file, 'utf8')));
      // A damaged settings file must never stop the app: start from defaults, the next save repairs it.
      if (parsed.success) stored = parsed.data;
    } catch {
      stored = {};
    }
    this.current = { ...DEFAULT_SETTINGS, ...stored };
    return { ...this.current };
  }

  async set(patch: Partial<Settings>): Promise<Settings> {
    const next = { ...(await this.get()), ...patch };
    next.recentFolders = next.recentFolders.slice(0, MAX_RECENT);
    this.current = next;
    await writeJsonAtomic(this.file, next, true);
    this.onChange?.({ ...next });
    return { ...next };
  }

  async addRecentFolder(folder: string): Promise<Settings> {
    const s = await this.get();
    return this.set({ recentFolders: [folder, ...s.recentFolders.filter((f) => f !== folder)] });
  }
}
