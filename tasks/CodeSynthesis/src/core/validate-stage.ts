/**
 * The validate-and-repair stage: validateCommand runs over the files as they would be written (in a
 * scratch copy of the output directory, never in it: CommandRunner); when it fails and repairs remain,
 * the model gets the command, its exit code, the end of its output and the current files, and its
 * corrected files go through the check and scan stages again before the next round. Every round is
 * logged and kept for the manifest.
 */
import type { Generated, Scanned, SourcedFile, Validated } from './draft';
import { CancelledError } from './errors';
import { callModel, readReply, throwIfAborted } from './generate';
import { checkPaths } from './paths';
import type { Clock, FileToWrite, Logger, PipelineHost } from './ports';
import { buildRepairMessage } from './repair';
import type { Settings } from './settings';
import {
  applyRepair,
  canRepair,
  isolationWarning,
  showCommand,
  validationFailed,
  validationRound,
  type CommandResult,
  type CommandRunner,
  type ValidationRound,
} from './validate';

export interface ValidatePorts {
  log: Logger;
  clock: Clock;
  signal: AbortSignal;
  /** Masks registered secrets in what the service sent back. */
  report: Pick<PipelineHost, 'mask'>;
  /** The runner of validateCommand, made when validation is set. */
  commandRunner?(): Promise<CommandRunner>;
  /** The check and scan stages, run again over repaired files. */
  recheck(draft: Generated): Promise<Scanned>;
}

/**
 * Validate, and repair while attempts remain. Without validateCommand, returns the draft with no rounds.
 * @throws ValidationError naming the command, its exit code and the last lines of its output when it
 *   still fails (with the offline or archive provider, saying there is nothing to repair); CancelledError; and
 *   what the repair's model call, check and scan throw.
 */
export async function validateAndRepair<T extends Scanned>(
  draft: T,
  settings: Settings,
  ports: ValidatePorts,
): Promise<Scanned & Validated> {
  const validation = settings.validation;
  if (!validation || !ports.commandRunner) return { ...draft, validation: [] };
  const { log } = ports;
  const runner = await ports.commandRunner();
  const { provider } = draft.model.info;
  const repairable = canRepair(provider);
  const rounds: ValidationRound[] = [];
  let current: Scanned = draft;
  let changed: string[] = [];
  for (let round = 1; ; round++) {
    throwIfAborted(ports.signal);
    log.info(`Validation round ${round}: running validateCommand ${showCommand(validation.command)}...`);
    const result = await runner.run({
      command: validation.command,
      files: filesToValidate(current),
      workingDirectory: validation.workingDirectory,
      timeoutMs: validation.timeoutSeconds * 1000,
      signal: ports.signal,
    });
    if (round === 1) {
      const warning = isolationWarning(result.isolation);
      if (warning) log.warn(warning);
    }
    rounds.push(validationRound(round, validation.command, result, changed));
    if (result.cancelled) throw new CancelledError();
    const passed = result.exitCode === 0 && !result.timedOut;
    logRound(log, round, result, passed);
    if (passed) return { ...current, validation: rounds };
    if (!repairable || round > validation.repairAttempts)
      throw validationFailed(result, validation.command, round, provider);

    log.info(`Asking the model to repair the files (repair ${round} of ${validation.repairAttempts})...`);
    const repaired = await repair(current, validation.command, result, settings, ports);
    changed = repaired.changed;
    if (!changed.length) log.warn(`The repair changed no file; running validateCommand again anyway.`);
    current = await ports.recheck(repaired.draft);
  }
}

/**
 * One repair: the previous request, the model's reply and a user message with what failed, sent as
 * the next request; the reply's files (paths checked) replace or join the current ones.
 */
async function repair(
  current: Scanned,
  command: string,
  result: CommandResult,
  settings: Settings,
  ports: ValidatePorts,
): Promise<{ draft: Generated; changed: string[] }> {
  const last = current.calls[current.calls.length - 1]!;
  const conversation = current.conversation ?? [
    ...last.request.messages,
    { role: 'assistant' as const, content: last.reply.content },
  ];
  const request = {
    ...current.request,
    messages: [
      ...conversation,
      {
        role: 'user' as const,
        content: buildRepairMessage({
          command,
          exitCode: result.exitCode,
          ...(result.timedOut ? { timedOut: true } : {}),
          outputTail: result.outputTail,
          files: current.proposed.map((f) => ({ path: f.path, content: f.content })),
        }),
      },
    ],
  };
  const call = await callModel(current.model, request, 'repair', current.calls, ports);
  const parsed = readReply(call, ports.log);
  const index = current.calls.length;
  const { files, changed } = applyRepair(current.proposed, checkPaths(parsed.files, settings));
  const origin = new Map(current.proposed.map((f) => [f.path, f.call]));
  const proposed: SourcedFile[] = files.map((f) => ({
    path: f.path,
    content: f.content,
    call: changed.includes(f.path) ? index : (origin.get(f.path) ?? index),
  }));
  return {
    draft: {
      ...current,
      calls: [...current.calls, call],
      proposed,
      conversation: [...request.messages, { role: 'assistant', content: call.reply.content }],
      ...(parsed.summary ? { modelSummary: parsed.summary } : {}),
    },
    changed,
  };
}

/**
 * The files the command sees over the copy of the output directory: those the write plan would write
 * (a skipped file is left as the person has it; an unchanged one is there already; a file whose merge
 * conflicts, sent for review, is validated as the person has it).
 */
export function filesToValidate(draft: Scanned): FileToWrite[] {
  return draft.plan.write;
}

function logRound(log: Logger, round: number, result: CommandResult, passed: boolean): void {
  const took = `${Math.round(result.durationMs / 100) / 10} s`;
  log.info(
    passed
      ? `Validation round ${round}: passed in ${took}.`
      : `Validation round ${round}: ${result.timedOut ? 'timed out' : `failed with exit code ${result.exitCode}`} after ${took}.`,
  );
  // Output of generated code: untrusted, and already masked and bounded by the runner.
  if (!passed && result.outputTail.trim()) log.untrusted(result.outputTail, 'info');
}
