/**
 * The `tractus` command line: one commander program, one module per command under ./commands.
 * Every command calls the same services the app's IPC handlers call.
 *
 * Exit codes: 0 done, 1 a command's own failure (e.g. every scan failed) or a bug, 2 bad input — an
 * InputError or anything commander refuses (missing option, unknown flag, bad value) — always as one line.
 */
import { Command, CommanderError } from 'commander';
import { InputError, isInputError } from '../core/errors';
import { COMMANDS } from './commands';

export function buildProgram(): Command {
  const program = new Command('tractus')
    .description('Segment, review, train and evaluate GI-tract organ masks on abdominal MRI')
    .version('0.1.0')
    // Set before the commands are added, so every subcommand inherits them: commander throws instead of
    // exiting and prints nothing itself; runCli says it in one line.
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  for (const register of COMMANDS) register(program);
  // A command that only groups others (models, synth) given alone: one line naming them, not its help.
  for (const group of program.commands.filter((c) => c.commands.length > 0)) {
    const names = group.commands.map((c) => c.name()).filter((n) => n !== 'help');
    group.action(() => {
      throw new InputError(
        group.name(),
        `needs a command: ${names.join(', ')} (see tractus ${group.name()} --help)`,
      );
    });
  }
  return program;
}

/** The subcommand named in argv, for the "see --help" hint. */
function commandIn(program: Command, argv: string[]): string | undefined {
  const names = new Set(program.commands.map((c) => c.name()));
  return argv.slice(2).find((a) => names.has(a));
}

/**
 * Run the CLI; input errors print one clear line and exit 2, anything else is a bug and exits 1.
 * Returns the exit code (also set on process.exitCode).
 */
export async function runCli(
  argv: string[],
  writeErr: (text: string) => void = (text) => void process.stderr.write(text),
): Promise<number> {
  const program = buildProgram();
  process.exitCode = undefined; // one run per process; in-process callers (tests) start clean
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end this way too, with exit code 0
      if (e.code === 'commander.help') {
        process.exitCode = 2; // no command given: commander has printed the help, which is the message
      } else if (e.exitCode !== 0) {
        const command = commandIn(program, argv);
        const message = e.message.replace(/^error: /, '');
        const hint = ` (see tractus ${command ? `${command} ` : ''}--help)`;
        writeErr(`tractus: ${message}${hint}\n`);
        process.exitCode = 2;
      }
    } else if (isInputError(e)) {
      writeErr(`tractus: ${e.message}\n`);
      process.exitCode = 2;
    } else {
      writeErr(`tractus: internal error: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  }
  return Number(process.exitCode ?? 0);
}
