/**
 * Progress people can see while the model writes: every PROGRESS_EVERY_MS (on the Ticker port, so tests
 * drive it) a log line with the tokens received and the files completed, when either changed since the
 * last line; and the host's progress (task.setprogress) moving with the files done.
 *
 * Tokens are counted as the stream's content chunks (about one token each); the exact usage comes with
 * the last chunk and goes to the manifest. In one reply with every file, a file is complete when its
 * JSON object closes in the stream (CompletedFiles); in a planned generation, when its call succeeded.
 * The total is known only from an outline: one reply's bar moves towards 85% as files arrive.
 */
import type { Logger, PipelineHost, ReplyObserver, Ticker } from './ports';

/** How often the progress line may be logged. */
export const PROGRESS_EVERY_MS = 5000;

/** Where the generation's progress is shown. */
export interface ProgressPorts {
  log: Pick<Logger, 'info'>;
  report?: Pick<PipelineHost, 'progress'>;
  ticker?: Ticker;
}

export class GenerationProgress {
  private tokens = 0;
  private done = 0;
  private total?: number;
  private inFlight = 0;
  private lastLine?: string;
  private lastPercent = -1;
  private readonly timer?: { stop(): void };

  constructor(private readonly ports: ProgressPorts) {
    this.timer = ports.ticker?.(PROGRESS_EVERY_MS, () => this.tick());
  }

  /**
   * The outline is known: `total` files are to come, counted from none (files counted in a single reply
   * cut off before it, which is not used, are dropped).
   */
  expect(total: number): void {
    this.total = total;
    this.done = 0;
    this.report();
  }

  /**
   * An observer for one call's stream: it counts the tokens and, with `countFiles` (one reply holding
   * every file), the files completed in the reply so far; a restarted stream takes its files back.
   */
  observe(countFiles: boolean): ReplyObserver {
    const files = new CompletedFiles();
    let counted = 0;
    return {
      received: (text) => {
        this.tokens += 1;
        if (!countFiles) return;
        const now = files.push(text);
        if (now > counted) this.filesDone(now - counted);
        counted = now;
      },
      restarted: () => {
        this.done -= counted;
        counted = 0;
        files.reset();
      },
    };
  }

  /** A call started or ended, for the count in flight. */
  inFlightChanged(by: 1 | -1): void {
    this.inFlight += by;
  }

  /** `count` more files are complete. */
  filesDone(count: number): void {
    this.done += count;
    this.report();
  }

  /** Log the progress line if it changed since the last one (called by the ticker). */
  tick(): void {
    const files = this.total === undefined ? `${this.done}` : `${this.done} of ${this.total}`;
    const line = `Generating: ${this.tokens} tokens received, ${files} file(s) complete${this.inFlight > 1 ? `, ${this.inFlight} calls in flight` : ''}.`;
    if (line === this.lastLine) return;
    this.lastLine = line;
    this.ports.log.info(line);
  }

  /** The generation is over: show the files it produced. */
  finish(files: number): void {
    this.ports.report?.progress(90, `Generated ${files} file(s); checking them`);
  }

  /** Stop the ticker. */
  stop(): void {
    this.timer?.stop();
  }

  private report(): void {
    const percent =
      this.total === undefined
        ? Math.floor(85 * (1 - 0.9 ** this.done))
        : Math.floor(5 + (85 * Math.min(this.done, this.total)) / Math.max(1, this.total));
    if (percent === this.lastPercent) return;
    this.lastPercent = percent;
    this.ports.report?.progress(
      percent,
      this.total === undefined
        ? `${this.done} file(s) received`
        : `${this.done} of ${this.total} file(s) generated`,
    );
  }
}

/**
 * Counts the file objects completed so far in a streamed reply of the form
 * `{"files":[{"path":...,"content":...},...],"summary":...}`: an object closing at the depth of the
 * files array's items. Strings (and their escapes) are skipped, so braces in the content do not count.
 * Text outside JSON (a ```json fence) is ignored; fenced code blocks count nothing.
 */
export class CompletedFiles {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private count = 0;

  /** Read more of the reply; returns the files completed so far. */
  push(text: string): number {
    for (const c of text) {
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth += 1;
      else if (c === '}' || c === ']') {
        if (c === '}' && this.depth === 3) this.count += 1;
        this.depth -= 1;
      }
    }
    return this.count;
  }

  reset(): void {
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.count = 0;
  }
}
