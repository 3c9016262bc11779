/**
 * PatternRunner on a worker thread: organisation rules (regular expressions the organisation wrote)
 * run there, so a pattern that backtracks for ever neither blocks the main thread, where the agent's
 * SIGINT/SIGTERM must be heard, nor outlives its budget. The main thread arms a timer for each rule
 * and file; when it fires, or the run is cancelled, the worker is terminated (a running RegExp is
 * interrupted too).
 *
 * The worker's code is a string (`eval: true`): no second bundle entry. It matches with core's
 * findSpans, whose source text it embeds, so a rule finds the same spans here as in-process.
 */
import { Worker } from 'node:worker_threads';
import { CancelledError } from '../../core/errors';
import type { PatternJob, PatternRun, PatternRunner } from '../../core/pattern-runner';
import { findSpans } from '../../core/scan-rules/pattern';

/** How long one organisation rule may take on one file (README, "Organisation rules"). */
export const RULE_BUDGET_MS = 2000;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const findSpans = ${findSpans.toString()};
const patterns = workerData.patterns.map((p) => new RegExp(p.source, p.flags));
for (const job of workerData.jobs)
  parentPort.postMessage(findSpans(patterns[job.pattern], workerData.contents[job.file]));
`;

export class WorkerPatternRunner implements PatternRunner {
  constructor(readonly budgetMs: number = RULE_BUDGET_MS) {}

  run(
    patterns: readonly RegExp[],
    contents: readonly string[],
    jobs: readonly PatternJob[],
    signal?: AbortSignal,
  ): Promise<PatternRun> {
    if (signal?.aborted) return Promise.reject(new CancelledError());
    if (jobs.length === 0) return Promise.resolve({ spans: [] });
    return new Promise((resolve, reject) => {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: {
          patterns: patterns.map((p) => ({ source: p.source, flags: p.flags })),
          contents,
          jobs,
        },
        env: {},
      });
      const spans: [number, number][][] = [];
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      const finish = (settle: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        void worker.terminate();
        settle();
      };
      // Job i runs from the moment job i-1 answered (or the worker started).
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => finish(() => resolve({ timedOut: spans.length })), this.budgetMs);
      };
      const onAbort = () => finish(() => reject(new CancelledError()));
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.on('online', arm);
      worker.on('message', (found: [number, number][]) => {
        spans.push(found);
        if (spans.length === jobs.length) finish(() => resolve({ spans }));
        else arm();
      });
      worker.on('error', (error) => finish(() => reject(error)));
      worker.on('exit', (code) =>
        finish(() => reject(new Error(`The worker running the organisation rules exited (${code}).`))),
      );
    });
  }
}
