import type { Command } from 'commander';
import { register as models } from './models';
import { register as evaluate } from './evaluate';

/** Each command module exports `register(program)`; add new commands here, one line each. */
export const COMMANDS: Array<(program: Command) => void> = [models, evaluate];
