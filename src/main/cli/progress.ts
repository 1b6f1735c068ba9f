// A terminal progress bar for long commands (download, train, eval, export). On a TTY it redraws one
// line in place; elsewhere (CI logs, pipes) it prints a plain line whenever progress moves by
// `logEveryFraction` or `logEveryMs` passes, so logs stay readable.

export interface ProgressBarOptions {
  /** Where to draw; stderr by default so stdout stays clean for --json output. */
  stream?: NodeJS.WriteStream;
  width?: number;
  /** Forces TTY / non-TTY behaviour (tests); defaults to the stream's isTTY. */
  tty?: boolean;
  logEveryFraction?: number;
  logEveryMs?: number;
  now?: () => number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m${String(sec).padStart(2, '0')}s`;
  return `${sec}s`;
}

/** "[#########-----------]  45%" for a fraction in 0..1 (null = unknown: a bar with no fill). */
export function renderBar(fraction: number | null, width: number): string {
  if (fraction === null) return `[${'-'.repeat(width)}]   ?%`;
  const f = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(f * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(f * 100)).padStart(3)}%`;
}

export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly width: number;
  private readonly tty: boolean;
  private readonly logEveryFraction: number;
  private readonly logEveryMs: number;
  private readonly now: () => number;
  private lastLogged = { fraction: -1, at: -Infinity };
  private drawn = false;

  constructor(private readonly label: string, options: ProgressBarOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.width = options.width ?? 30;
    this.tty = options.tty ?? Boolean(this.stream.isTTY);
    this.logEveryFraction = options.logEveryFraction ?? 0.1;
    this.logEveryMs = options.logEveryMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The line as it would be drawn. */
  line(fraction: number | null, message?: string | null, etaSeconds?: number | null): string {
    const eta = etaSeconds === null || etaSeconds === undefined ? '' : ` eta ${formatDuration(etaSeconds)}`;
    return `${this.label} ${renderBar(fraction, this.width)}${eta}${message ? `  ${message}` : ''}`;
  }

  update(fraction: number | null, message?: string | null, etaSeconds?: number | null): void {
    const text = this.line(fraction, message, etaSeconds);
    if (this.tty) {
      const columns = this.stream.columns ?? 100;
      this.stream.write(`\r${text.slice(0, columns - 1)}\x1b[K`);
      this.drawn = true;
      return;
    }
    const at = this.now();
    const f = fraction ?? 0;
    if (f - this.lastLogged.fraction >= this.logEveryFraction || at - this.lastLogged.at >= this.logEveryMs || (f >= 1 && this.lastLogged.fraction < 1)) {
      this.stream.write(`${text}\n`);
      this.lastLogged = { fraction: f, at };
    }
  }

  /** Prints a line above the bar (a log line) without breaking it. */
  log(line: string): void {
    if (this.tty && this.drawn) this.stream.write('\r\x1b[K');
    this.stream.write(`${line}\n`);
  }

  /** Ends the bar with a final message on its own line. */
  done(message: string): void {
    if (this.tty && this.drawn) this.stream.write('\r\x1b[K');
    this.stream.write(`${this.label} ${message}\n`);
    this.drawn = false;
  }
}
