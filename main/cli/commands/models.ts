/**
 * `tractus models list|activate <id>|rollback|export-onnx <dir>|ensemble <dirs…> --out <dir> [--json]`:
 * manage the user's registry of trained models, and build model folders from trained ones.
 */
import type { Command } from 'commander';
import { ModelRegistry } from '../../model/registry';
import { initBackend } from '../../model/backend/select';
import { exportModelFolder, type OnnxExportReport } from '../../model/onnx/save';
import { ensembleModelFolders } from '../../services/ensemble';

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text + '\n');
}

/** One-line description of a model card (architecture, mean validation Dice), tolerant of odd cards. */
function describeCard(card: unknown): string {
  if (!card || typeof card !== 'object') return '';
  const c = card as {
    architecture?: { name?: unknown };
    validation?: { dice?: Record<string, unknown> } | null;
  };
  const dice = Object.values(c.validation?.dice ?? {}).filter((d): d is number => typeof d === 'number');
  const mean = dice.length ? `val Dice ${(dice.reduce((a, b) => a + b, 0) / dice.length).toFixed(3)}` : '';
  const arch = typeof c.architecture?.name === 'string' ? c.architecture.name : '';
  return [arch, mean].filter(Boolean).join(', ');
}

/** ONNX Runtime's self-check of a freshly written model.onnx, in one clause. */
function describeCheck(check: OnnxExportReport['check']): string {
  return check.ok
    ? `ONNX Runtime agrees with tfjs (max |Δp| ${check.maxDiff.toExponential(1)}; ${check.detail})`
    : `not checked: ${check.reason}`;
}

export function register(program: Command): void {
  const models = program.command('models').description('List, activate and roll back trained models');

  models
    .command('list')
    .description('List registered models; * marks the active one')
    .option('--json', 'machine-readable output on stdout')
    .action(async (opts: { json?: boolean }) => {
      const registry = new ModelRegistry();
      const list = await registry.list();
      const activeDir = await registry.activeModelDir();
      const lines = list.map((m) => `${m.active ? '*' : ' '} ${m.id}  ${describeCard(m.card)}`.trimEnd());
      if (!list.some((m) => m.active)) lines.push(`* shipped default (${activeDir})`);
      print(Boolean(opts.json), { models: list, activeDir }, lines.join('\n'));
    });

  models
    .command('activate <id>')
    .description('Segment with this registered model from now on')
    .option('--json', 'machine-readable output on stdout')
    .action(async (id: string, opts: { json?: boolean }) => {
      const registry = new ModelRegistry();
      await registry.activate(id);
      print(Boolean(opts.json), { active: id, dir: await registry.activeModelDir() }, `active: ${id}`);
    });

  models
    .command('export-onnx <dir>')
    .description(
      'Write <dir>/model.onnx from the tfjs model (ONNX Runtime then runs it) and flopsPerSlice on its card',
    )
    .option('--json', 'machine-readable output on stdout')
    .action(async (dir: string, opts: { json?: boolean }) => {
      await initBackend('auto');
      const r = await exportModelFolder(dir);
      const check = describeCheck(r.check);
      print(
        Boolean(opts.json),
        r,
        `wrote ${r.file} (${(r.bytes / 1024).toFixed(0)} KiB), ` +
          `${(r.flopsPerSlice / 1e9).toFixed(3)} GFLOP per slice; ${check}`,
      );
    });

  models
    .command('ensemble <dirs...>')
    .description(
      'Write one model folder whose network averages the probability maps of these model folders ' +
        '(same architecture and input), with its model.onnx',
    )
    .requiredOption('--out <dir>', 'the new model folder (must not exist)')
    .option('--name <name>', 'model name on its card (default: the folder name)')
    .option('--json', 'machine-readable output on stdout')
    .action(async (dirs: string[], opts: { out: string; name?: string; json?: boolean }) => {
      await initBackend('auto');
      const r = await ensembleModelFolders({ members: dirs, out: opts.out, name: opts.name });
      const check = describeCheck(r.onnx.check);
      print(
        Boolean(opts.json),
        r,
        `wrote ${r.dir}: ${dirs.length} members averaged, ` +
          `${(r.onnx.flopsPerSlice / 1e9).toFixed(3)} GFLOP per slice; ${check}`,
      );
    });

  models
    .command('rollback')
    .description('Re-activate the model that was active before the last activation')
    .option('--json', 'machine-readable output on stdout')
    .action(async (opts: { json?: boolean }) => {
      const registry = new ModelRegistry();
      const id = await registry.rollback();
      const dir = await registry.activeModelDir();
      print(Boolean(opts.json), { active: id, dir }, `active: ${id ?? `shipped default (${dir})`}`);
    });
}
