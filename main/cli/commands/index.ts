import type { Command } from 'commander';
import { register as info } from './info';
import { register as segment } from './segment';
import { register as evaluate } from './evaluate';
import { register as convert } from './convert';
import { register as exportCommand } from './export';
import { register as train } from './train';
import { register as crossval } from './crossval';
import { register as models } from './models';
import { register as synth } from './synth';
import { register as serve } from './serve';
import { register as doctor } from './doctor';

/**
 * Each command module exports `register(program)`; add new commands here, one line each.
 * The order is the order of `tractus --help`: look, segment, score, convert, learn, then tools.
 */
export const COMMANDS: Array<(program: Command) => void> = [
  info,
  segment,
  evaluate,
  convert,
  exportCommand,
  train,
  crossval,
  models,
  synth,
  serve,
  doctor,
];
