/**
 * One time budget for the run's network work (timeoutSeconds): the sign-in, the Key Vault read, every
 * model call, its retries and the waits between them draw on the same budget, so the run as a whole
 * keeps to it however many calls it makes, in turn or in parallel. Time spent between calls (validating
 * the files, which has its own limit per round) does not count.
 */

/** Why a budget's signal aborted. */
export class BudgetExhausted extends Error {
  constructor(readonly totalMs: number) {
    super(`The time budget of ${totalMs} ms is used up.`);
    this.name = 'BudgetExhausted';
  }
}

export class TimeBudget {
  private spentMs = 0;
  /** The spends running now: they share one signal and one stretch of time. */
  private active?: {
    signal: AbortSignal;
    since: number;
    count: number;
    timer: ReturnType<typeof setTimeout>;
  };

  /** @param totalMs the whole budget; `now` is a monotonic clock in ms (tests pass their own). */
  constructor(
    readonly totalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** What is left, in ms, at this moment (0 when used up). */
  remainingMs(): number {
    // A timer may fire a fraction of a millisecond before the clock says the time is up: once the
    // budget's signal has aborted, nothing is left.
    if (this.active?.signal.aborted) return 0;
    const running = this.active ? this.now() - this.active.since : 0;
    return Math.max(0, this.totalMs - this.spentMs - running);
  }

  /**
   * Run `work` on the budget: its signal aborts (reason BudgetExhausted) when the budget runs out, and
   * the time it takes is spent. Spends that overlap (one inside another, or calls in parallel) share one
   * signal, and the time they overlap is spent once: the budget is wall-clock time with work under way.
   */
  async spend<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const active = this.active ?? this.start();
    active.count += 1;
    try {
      return await work(active.signal);
    } finally {
      active.count -= 1;
      if (active.count === 0) {
        clearTimeout(active.timer);
        this.spentMs = active.signal.aborted ? this.totalMs : this.spentMs + this.now() - active.since;
        this.active = undefined;
      }
    }
  }

  private start(): NonNullable<TimeBudget['active']> {
    const controller = new AbortController();
    const left = this.remainingMs();
    const timer = setTimeout(() => controller.abort(new BudgetExhausted(this.totalMs)), left);
    // Nothing waits on this timer once the work is done: it must not keep the process alive.
    timer.unref?.();
    if (left <= 0) controller.abort(new BudgetExhausted(this.totalMs));
    this.active = { signal: controller.signal, since: this.now(), count: 0, timer };
    return this.active;
  }
}
