/**
 * The onnx bench's in-process pipeline rounds (onnx-timing.ts pipelineRounds), run from the built bundle
 * in a child process: one process, as the app is, and the code as it ships. The bench itself runs the
 * TypeScript sources through tsx, whose code costs this thread ≈ 0.2 ms of CPU per slice more and moved
 * the measured overhead by ≈ 5 points (2026-12-01). Built as an extra entry of the CLI bundle
 * (bin/cli-bundle.mjs); argv[2] is the JSON of PipelineRoundsOptions, the rounds go to stdout as JSON.
 */
import { pipelineRounds, type PipelineRoundsOptions } from './onnx-timing';

const opts = JSON.parse(process.argv[2] ?? '') as PipelineRoundsOptions;
process.stdout.write(JSON.stringify(await pipelineRounds(opts)) + '\n');
