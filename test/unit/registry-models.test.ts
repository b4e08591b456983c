import {
  mkdtempSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
  existsSync,
  rmSync,
  readdirSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../main/model/registry';
import { InputError } from '../../main/core/errors';
import { REPO_ROOT } from '../helpers/shared-data';

const temps: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'tractus-registry-'));
  temps.push(d);
  return d;
}
afterEach(() => {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

function fakeModel(root: string, name: string, dice: number): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'model.json'), '{"modelTopology":{}}');
  writeFileSync(path.join(dir, 'weights.bin'), Buffer.from([1, 2, 3]));
  writeFileSync(path.join(dir, 'model-card.json'), JSON.stringify({ validation: { meanDice: dice } }));
  return dir;
}

describe('model registry', () => {
  it('falls back to the shipped default when nothing is active', async () => {
    const reg = new ModelRegistry(tmp(), '/shipped/default');
    expect(await reg.list()).toEqual([]);
    expect(await reg.activeModelDir()).toBe('/shipped/default');
  });

  it('registers a copy, activates it, and rolls back through the activation history', async () => {
    const home = tmp();
    const src = tmp();
    const reg = new ModelRegistry(home, '/shipped/default');
    const a = await reg.register(
      fakeModel(src, 'First Model', 0.5),
      undefined,
      new Date('2025-01-02T03:04:05Z'),
    );
    const b = await reg.register(fakeModel(src, 'second', 0.7), undefined, new Date('2025-01-02T03:04:05Z'));
    expect(a.id).toBe('20250102-030405-first-model');
    expect(b.id).toBe('20250102-030405-second');
    const again = await reg.register(path.join(src, 'second'), undefined, new Date('2025-01-02T03:04:05Z'));
    expect(again.id).toBe('20250102-030405-2-second');
    expect(readFileSync(path.join(a.dir, 'weights.bin'))).toEqual(Buffer.from([1, 2, 3]));

    await reg.activate(a.id);
    await reg.activate(b.id);
    expect(await reg.activeModelDir()).toBe(b.dir);
    const listed = await reg.list();
    expect(listed.map((m) => [m.id, m.active])).toEqual([
      [again.id, false],
      [a.id, false],
      [b.id, true],
    ]);
    expect(listed[2]!.card).toEqual({ validation: { meanDice: 0.7 } });

    expect(await reg.rollback()).toBe(a.id);
    expect(await reg.activeModelDir()).toBe(a.dir);
    expect(await reg.rollback()).toBeNull();
    expect(await reg.activeModelDir()).toBe('/shipped/default');
    await expect(reg.rollback()).rejects.toBeInstanceOf(InputError);
    // No temp folders left behind by the atomic writes and copies.
    expect(readdirSync(home).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('refuses unknown ids and folders without model.json with an InputError', async () => {
    const reg = new ModelRegistry(tmp());
    await expect(reg.activate('20250101-000000-nope')).rejects.toBeInstanceOf(InputError);
    await expect(reg.activate('../../etc')).rejects.toBeInstanceOf(InputError);
    await expect(reg.register(tmp())).rejects.toThrow(/no model.json/);
  });

  it('a deleted active model falls back instead of pointing at nothing', async () => {
    const home = tmp();
    const reg = new ModelRegistry(home, '/shipped');
    const m = await reg.register(fakeModel(tmp(), 'x', 0.1));
    await reg.activate(m.id);
    rmSync(m.dir, { recursive: true });
    expect(await reg.activeModelDir()).toBe('/shipped');
    expect(existsSync(path.join(home, 'active'))).toBe(true);
  });

  it('`tractus models` lists, activates and rolls back with --json', () => {
    const home = tmp();
    const reg = new ModelRegistry(home);
    const cli = (...args: string[]): unknown =>
      JSON.parse(
        execFileSync(
          process.execPath,
          ['--import', 'tsx', 'main/cli/index.ts', 'models', ...args, '--json'],
          {
            cwd: REPO_ROOT,
            env: { ...process.env, TRACTUS_HOME: home },
            encoding: 'utf8',
          },
        ),
      );
    return reg.register(fakeModel(tmp(), 'cli', 0.9)).then((m) => {
      expect(cli('activate', m.id)).toEqual({ active: m.id, dir: m.dir });
      const listed = cli('list') as { models: Array<{ id: string; active: boolean }>; activeDir: string };
      expect(listed.models.map((x) => [x.id, x.active])).toEqual([[m.id, true]]);
      expect((cli('rollback') as { active: string | null }).active).toBeNull();
    });
  });
});
