import type { Command } from 'commander';
import { register as models } from './models';

/** Each command module exports `register(program)`; add new commands here, one line each. */
export const COMMANDS: Array<(program: Command) => void> = [models];
