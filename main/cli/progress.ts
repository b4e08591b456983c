/**
 * A terminal progress bar for long CLI work. Draws on stderr so `--json` output on stdout stays clean;
 * prints plain lines instead when stderr is not a terminal (CI logs, pipes).
 */
export interface ProgressOptions {
  label: string;
  total: number;
  stream?: NodeJS.WriteStream;
}

export class ProgressBar {
  private done = 0;
  private lastDraw = 0;
  private readonly start = Date.now();
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;

  constructor(private readonly opts: ProgressOptions) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  /** Advance to `done` of `total`; `info` is shown after the bar (e.g. "loss 0.231 dice 0.71"). */
  update(done: number, info = ''): void {
    this.done = done;
    const now = Date.now();
    const finished = done >= this.opts.total;
    if (!finished && now - this.lastDraw < (this.tty ? 100 : 5000)) return;
    this.lastDraw = now;
    this.draw(info, finished);
  }

  tick(info = ''): void {
    this.update(this.done + 1, info);
  }

  private draw(info: string, finished: boolean): void {
    const { label, total } = this.opts;
    const frac = total > 0 ? Math.min(1, this.done / total) : 1;
    const elapsed = (Date.now() - this.start) / 1000;
    const eta = frac > 0 && !finished ? ` eta ${formatSeconds((elapsed / frac) * (1 - frac))}` : '';
    const text = `${label} ${this.done}/${total}${eta} ${info}`.trimEnd();
    if (this.tty) {
      const width = 24;
      const filled = Math.round(frac * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.stream.write(`\r\x1b[2K${bar} ${text}${finished ? '\n' : ''}`);
    } else {
      this.stream.write(`${text}\n`);
    }
  }
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
