/**
 * The `tractus` command line: one commander program, one module per command under ./commands.
 * Every command calls the same services the app's IPC handlers call.
 */
import { Command } from 'commander';
import { isInputError } from '../core/errors';
import { COMMANDS } from './commands';

export function buildProgram(): Command {
  const program = new Command('tractus')
    .description('Segment, review, train and evaluate GI-tract organ masks on abdominal MRI')
    .version('0.1.0')
    .showHelpAfterError();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Run the CLI; input errors print one clear line and exit 2, anything else is a bug and exits 1. */
export async function runCli(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (isInputError(e)) {
      process.stderr.write(`tractus: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`tractus: internal error: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  }
}
