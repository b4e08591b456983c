/**
 * An input the user gave us is wrong. Carries the file (or record id) and the problem so the
 * CLI and UI can say exactly what to fix; never used for programming errors.
 */
export class InputError extends Error {
  constructor(
    /** File path, or record id such as a Kaggle slice id, that the problem is in. */
    readonly where: string,
    /** What is wrong, phrased for a person: "truncated pixel data (expected 131072 bytes, found 4000)". */
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${where}: ${problem}`, options);
    this.name = 'InputError';
  }
}

export function isInputError(e: unknown): e is InputError {
  return e instanceof InputError;
}
