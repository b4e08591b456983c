import type { Command } from 'commander';

/** Each command module exports `register(program)`; add new commands here, one line each. */
export const COMMANDS: Array<(program: Command) => void> = [];
