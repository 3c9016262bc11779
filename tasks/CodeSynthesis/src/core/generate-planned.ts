/**
 * Planned generation (generationStrategy 'planned', or 'auto' for a stack card or a service that does
 * not fit in one reply): first the outline of the files (outline.ts), its paths checked before any file
 * is asked for; then one call per file, `concurrency` at a time (pool.ts), each asking for its paths by
 * name. A call whose reply cannot be used (cut off, malformed, other paths than asked) is made again,
 * up to FILE_ATTEMPTS in all; the model client retries dropped connections, broken streams and
 * throttling itself, within the run's one time budget. A file that still cannot be generated fails the
 * run naming it: the other calls are stopped, and nothing is written.
 *
 * Every call is kept for the manifest, in the order the calls were asked for (the outline, then the
 * files in the outline's order), whatever order they finished in.
 */
import { callModel, describeModel } from './call-model';
import type { Generated, ModelCall, Prepared, SourcedFile } from './draft';
import { FileGenerationError, isSynthesisError, ReplyError } from './errors';
import type { GeneratePorts, GenerateSettings } from './generate';
import {
  buildFileRequest,
  buildOutlineRequest,
  listPaths,
  outlineConversation,
  parseOutline,
  readFileReply,
} from './outline';
import type { FileToWrite, Logger, ModelClient } from './ports';
import { runPool } from './pool';
import type { GenerationProgress } from './progress';
import { promptFilePath } from './provenance';

/** Calls for the outline, when its reply cannot be used. */
export const OUTLINE_ATTEMPTS = 3;
/** Calls for each file, when its reply cannot be used. */
export const FILE_ATTEMPTS = 3;

/**
 * Outline, then the files in parallel.
 * @param earlier calls already made for these files (a single reply cut at the token limit), kept first.
 * @throws ReplyError (the outline could not be read), PathError / LimitError (the outline's paths),
 *   FileGenerationError naming the file that could not be generated, CancelledError, CredentialError.
 */
export async function generatePlanned<T extends Prepared>(
  draft: T,
  model: ModelClient,
  earlier: readonly ModelCall[],
  settings: GenerateSettings,
  ports: GeneratePorts,
  progress: GenerationProgress,
): Promise<T & Generated> {
  const { log } = ports;
  const rules = {
    deniedPaths: settings.deniedPaths,
    maxFiles: settings.maxFiles,
    maxTotalBytes: settings.maxTotalBytes,
  };
  log.info(`Asking ${describeModel(model)} for an outline of the files...`);
  const outlineRequest = buildOutlineRequest(draft.request);
  const outlined = await withAttempts(
    OUTLINE_ATTEMPTS,
    'The outline',
    () => callModel(model, outlineRequest, 'outline', [], ports, progress.observe(false)),
    (call) => parseOutline(call.reply, rules),
    log,
  );
  const outline = outlined.value;
  const jobs = outline.files.map((f) => [f.path]);
  const concurrency = settings.generation.concurrency;
  log.info(
    `Outline: ${outline.files.length} file(s). Writing them in ${jobs.length} call(s), ${Math.min(concurrency, jobs.length)} at a time...`,
  );
  progress.expect(outline.files.length);

  const pooled = await runPool(jobs, concurrency, ports.signal, async (paths, _index, signal) => {
    const request = buildFileRequest(draft.request, outline, paths);
    progress.inFlightChanged(1);
    try {
      const done = await withAttempts(
        FILE_ATTEMPTS,
        `The reply for ${listPaths(paths)}`,
        async () => {
          const call = await callModel(
            model,
            request,
            'file',
            [],
            { ...ports, signal },
            progress.observe(false),
          );
          return { ...call, paths };
        },
        (call) => readFileReply(call.reply, paths, rules),
        log,
      ).catch((err: unknown) => {
        throw fileFailure(paths, err);
      });
      progress.filesDone(paths.length);
      return done;
    } finally {
      progress.inFlightChanged(-1);
    }
  });

  const calls = withPromptFiles([...earlier, ...outlined.calls, ...pooled.results.flatMap((r) => r.calls)]);
  const proposed: SourcedFile[] = [];
  let index = earlier.length + outlined.calls.length;
  for (const job of pooled.results) {
    index += job.calls.length;
    proposed.push(...job.value.map((f: FileToWrite) => ({ ...f, call: index - 1 })));
  }
  log.info(
    `Generated ${proposed.length} file(s) in ${pooled.results.length} call(s) after the outline, at most ${pooled.maxInFlight} at once.`,
  );
  return {
    ...draft,
    model,
    calls,
    proposed,
    ...(outline.summary ? { modelSummary: outline.summary } : {}),
    generation: {
      requested: settings.generation.strategy,
      strategy: 'planned',
      concurrency,
      maxInFlight: { files: pooled.maxInFlight },
    },
    conversation: outlineConversation(draft.request, outline),
  };
}

/**
 * Make a call and read its reply; a reply that cannot be used (ReplyError) is asked for again, up to
 * `attempts` calls in all, each one kept (the unused ones marked `rejected`).
 * @throws the last ReplyError, or what the call or `read` threw otherwise.
 */
async function withAttempts<V>(
  attempts: number,
  what: string,
  call: () => Promise<ModelCall>,
  read: (call: ModelCall) => V,
  log: Pick<Logger, 'info'>,
): Promise<{ calls: ModelCall[]; value: V }> {
  const calls: ModelCall[] = [];
  for (let n = 1; ; n++) {
    const made = await call();
    try {
      return { calls: [...calls, made], value: read(made) };
    } catch (err) {
      if (!(err instanceof ReplyError) || n >= attempts) throw err;
      const reason = err.message.replace(/^Model reply: /, '');
      calls.push({ ...made, rejected: reason });
      log.info(`${what} could not be used (${reason}); asking again (attempt ${n + 1} of ${attempts}).`);
    }
  }
}

/** A file call's failure as the user sees it: naming the file. Other errors pass as they are. */
function fileFailure(paths: readonly string[], err: unknown): unknown {
  if (err instanceof ReplyError)
    return new FileGenerationError(
      paths,
      `Planned generation: the model did not write ${listPaths(paths)} in ${FILE_ATTEMPTS} attempt(s); the last reply: ${err.message.replace(/^Model reply: /, '')}`,
      err.hint,
      { cause: err },
    );
  // A ModelError may come from the remote bundle's copy of the class: known by its subject.
  if (isSynthesisError(err) && err.subject === 'model')
    return new FileGenerationError(
      paths,
      `Planned generation: ${listPaths(paths)} could not be generated: ${err.message}`,
      err.hint,
      { cause: err },
    );
  return err;
}

/** Each call's prompt record path, unique in the run, given in the calls' order. */
function withPromptFiles(calls: readonly ModelCall[]): ModelCall[] {
  const taken: string[] = [];
  return calls.map((c) => {
    const promptFile = promptFilePath(c.reply, taken);
    taken.push(promptFile);
    return { ...c, promptFile };
  });
}
