/**
 * One time budget for the run's network work (timeoutSeconds): the sign-in, the Key Vault read, every
 * model call, its retries and the waits between them draw on the same budget, so the run as a whole
 * keeps to it however many calls it makes. Time spent between calls (validating the files, which has
 * its own limit per round) does not count.
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
  private active?: { signal: AbortSignal; since: number };

  /** @param totalMs the whole budget; `now` is a monotonic clock in ms (tests pass their own). */
  constructor(
    readonly totalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** What is left, in ms, at this moment (0 when used up). */
  remainingMs(): number {
    const running = this.active ? this.now() - this.active.since : 0;
    return Math.max(0, this.totalMs - this.spentMs - running);
  }

  /**
   * Run `work` on the budget: its signal aborts (reason BudgetExhausted) when the budget runs out, and
   * the time it takes is spent. Inside another `spend`, `work` shares that one's signal and time.
   */
  async spend<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    if (this.active) return work(this.active.signal);
    const controller = new AbortController();
    const left = this.remainingMs();
    const timer = setTimeout(() => controller.abort(new BudgetExhausted(this.totalMs)), left);
    // Nothing waits on this timer once the work is done: it must not keep the process alive.
    timer.unref?.();
    if (left <= 0) controller.abort(new BudgetExhausted(this.totalMs));
    this.active = { signal: controller.signal, since: this.now() };
    try {
      return await work(controller.signal);
    } finally {
      clearTimeout(timer);
      this.spentMs += this.now() - this.active.since;
      this.active = undefined;
    }
  }
}
