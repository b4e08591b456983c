import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../main/core/errors';
import {
  INTENDED_USE,
  MODEL_CARD_FILE,
  newModelCard,
  parseModelCard,
  readModelCard,
  type ModelCard,
} from '../../main/model/card';

const valid = (): ModelCard =>
  newModelCard({
    name: 'test',
    description: 'a test card',
    architecture: { name: 'unet', filters: [4, 8], inChannels: 3, outChannels: 3 },
    inputSize: { height: 64, width: 64 },
    backend: 'cpu',
    versions: { tractus: '0.1.0' },
    createdAt: new Date('2026-01-02T03:04:05Z'),
  });

function writeCard(value: unknown): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tractus-card-'));
  writeFileSync(path.join(dir, MODEL_CARD_FILE), typeof value === 'string' ? value : JSON.stringify(value));
  return dir;
}

async function inputErrorOf(p: Promise<unknown>): Promise<InputError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(InputError);
  return e as InputError;
}

describe('model card', () => {
  it('fills the defaults and states the intended use', () => {
    const card = valid();
    expect(card.input).toEqual({
      size: { height: 64, width: 64 },
      sliceStride: 2,
      normalisation: { method: 'percentile', lowPercentile: 0.5, highPercentile: 99.5 },
      resize: 'letterbox-bilinear',
    });
    expect(card.organs).toEqual(['large_bowel', 'small_bowel', 'stomach']);
    expect(card.intendedUse).toBe(INTENDED_USE);
    expect(card.intendedUse).toMatch(/reviewed by a clinician/);
    expect(card.placeholder).toBe(false);
  });

  it('reads back what was written', async () => {
    const card = valid();
    expect(await readModelCard(writeCard(card))).toEqual(card);
  });

  it('names the file and the field for each kind of mistake', async () => {
    const missing = await inputErrorOf(readModelCard(path.join(os.tmpdir(), 'no-such-model-dir')));
    expect(missing.message).toMatch(/model-card\.json: file not found/);

    const badJson = await inputErrorOf(readModelCard(writeCard('{"format": ')));
    expect(badJson.where).toMatch(/model-card\.json$/);
    expect(badJson.problem).toMatch(/not valid JSON/);

    const wrongOrder = await inputErrorOf(
      readModelCard(writeCard({ ...valid(), organs: ['stomach', 'small_bowel', 'large_bowel'] })),
    );
    expect(wrongOrder.problem).toMatch(/organs: must be large_bowel, small_bowel, stomach/);

    const badSize = await inputErrorOf(
      readModelCard(writeCard({ ...valid(), input: { ...valid().input, size: { height: 63, width: 64 } } })),
    );
    expect(badSize.problem).toMatch(/input\.size: 63×64 is not a multiple of 2/);

    const { threshold: _t, ...noThreshold } = valid().postprocess.stomach;
    const missingField = await inputErrorOf(
      readModelCard(writeCard({ ...valid(), postprocess: { ...valid().postprocess, stomach: noThreshold } })),
    );
    expect(missingField.problem).toMatch(/postprocess\.stomach\.threshold/);
  });

  it('answers any malformed value with an InputError, never a crash', () => {
    const card = valid() as unknown as Record<string, unknown>;
    const keys = Object.keys(card);
    fc.assert(
      fc.property(
        fc.oneof(fc.jsonValue(), fc.record({ key: fc.constantFrom(...keys), value: fc.jsonValue() })),
        (v) => {
          const input =
            v !== null && typeof v === 'object' && 'key' in v && 'value' in v && Object.keys(v).length === 2
              ? { ...card, [v.key as string]: v.value }
              : v;
          try {
            parseModelCard(input, 'fuzz.json');
          } catch (e) {
            expect(e).toBeInstanceOf(InputError);
            expect((e as InputError).where).toBe('fuzz.json');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
