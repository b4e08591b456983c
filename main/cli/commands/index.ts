import type { Command } from 'commander';
import { register as models } from './models';
import { register as train } from './train';
import { register as evaluate } from './evaluate';
import { register as convert } from './convert';
import { register as serve } from './serve';
import { register as synth } from './synth';
import { register as segment } from './segment';
import { register as doctor } from './doctor';
import { register as crossval } from './crossval';

/** Each command module exports `register(program)`; add new commands here, one line each. */
export const COMMANDS: Array<(program: Command) => void> = [
  models,
  train,
  evaluate,
  convert,
  serve,
  synth,
  segment,
  crossval,
  doctor,
];
