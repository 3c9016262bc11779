/**
 * The use case, as a list of stages over a draft (draft.ts), each in its own file:
 *
 *   read the intent -> (the review's target) -> (reuse) -> generate -> check paths and plan -> scan
 *   -> validate and repair -> record -> (push for review) -> commit -> publish
 *
 * Reuse (reuse-stage.ts) ends the run before the model is connected when the last generation's
 * fingerprint is this run's; generate asks for one reply or, planned, an outline and the files.
 *
 * Nothing reaches the output directory before the commit stage, which writes everything or nothing. In
 * reviewMode 'pullRequest' the push comes first, so a failed push leaves the output directory as it
 * was; merge conflicts then go to the review branch only, and the output directory is left unchanged.
 */
import { MANIFEST_PATH } from './contract';
import { checkAndPlan } from './check';
import { commit } from './commit';
import { fingerprintRun } from './fingerprint';
import type { Generated } from './draft';
import { generate } from './generate';
import type { Intent } from './intent';
import type { PatternRunner } from './pattern-runner';
import type {
  BuildInfo,
  Clock,
  FileReader,
  Logger,
  ModelClient,
  PipelineHost,
  Ticker,
  TreeStore,
} from './ports';
import { publish, type SynthesisResult } from './publish';
import { readIntent } from './read-intent';
import { recordRun } from './record';
import { findReuse, publishReuse } from './reuse-stage';
import { resolveReviewTarget, publishForReview, type ReviewPorts } from './review-stage';
import type { SecretScanner } from './scan';
import { reportFindings, scan } from './scan-stage';
import type { Settings } from './settings';
import type { CommandRunner } from './validate';
import { validateAndRepair } from './validate-stage';

export type { SynthesisResult } from './publish';

/** What the use case needs from the world. */
export interface SynthesisPorts {
  log: Logger;
  /** Reads the files the user named in inputs (intentFile, instructionsFile, policyFile). */
  reader: FileReader;
  tree: TreeStore;
  clock: Clock;
  /**
   * Connects to the model (signs in, reads credentials) only once the intent is known to be usable.
   * `signal` is the run's: cancellation stops the sign-in too.
   */
  connectModel(intent: Intent, signal: AbortSignal): Promise<ModelClient>;
  signal: AbortSignal;
  version: string;
  /** Loads the secret scanner (secretlint) when the scan runs. */
  secretScanner(): Promise<SecretScanner>;
  /** Loads the runner of organisation rules (a time budget, off the main thread); without it they run in-process. */
  patternRunner?(): Promise<PatternRunner>;
  /** Makes the runner of validateCommand (a sandbox over a scratch copy); set when validation is. */
  commandRunner?(): Promise<CommandRunner>;
  /** The pull-request gate; set in reviewMode 'pullRequest' only. */
  review?: ReviewPorts;
  /**
   * Task issues, the SARIF artifact, outputs, the summary, progress and the masker of registered
   * secrets: the host.
   */
  report: Pick<
    PipelineHost,
    'logIssue' | 'publishCodeAnalysisLog' | 'mask' | 'setOutput' | 'publishSummary' | 'progress'
  >;
  /** The heartbeat of the progress lines while the model writes; none: no periodic lines. */
  ticker?: Ticker;
  /** The build around the run; `intentVariable` is the pipeline variable `intent`, to tell it from inline text. */
  build?: BuildInfo & { intentVariable?: string };
}

/**
 * Run one synthesis. Either every planned file, the prompt records and the manifest are written, or
 * nothing is. Every finding of the scan becomes a task issue, and the SARIF log is published, before
 * the write; the outputs and the summary after it.
 * @throws FindingsError when failOnFindings is true and the scan found errors.
 * @throws the other typed errors of core/errors.ts; the output directory is unchanged whenever it throws.
 */
export async function synthesize(settings: Settings, ports: SynthesisPorts): Promise<SynthesisResult> {
  const { intentVariable, ...build } = ports.build ?? {};
  const buildInfo = ports.build ? { build } : {};
  const where = {
    ...ports,
    outputDirectory: ports.tree.root,
    ...(build.buildId ? { buildId: build.buildId } : {}),
  };
  if (settings.review.mode === 'pullRequest' && !ports.review)
    throw new Error("synthesize: reviewMode 'pullRequest' needs the review ports; compose() gives them.");

  const read = await readIntent(settings, {
    ...ports,
    ...(intentVariable !== undefined ? { intentVariable } : {}),
  });
  const prepared = { ...read, fingerprint: fingerprintRun(read, settings, ports.version) };
  const manifestPath = joinPath(ports.tree.root, MANIFEST_PATH);
  const review =
    settings.review.mode === 'pullRequest' && ports.review
      ? {
          target: resolveReviewTarget(prepared, settings.review, ports.review, ports.tree.root, ports.log),
          ports: ports.review,
        }
      : undefined;
  const reuse = settings.reuse ? await findReuse(prepared, ports) : undefined;
  if (reuse) {
    const at = { manifestPath, outputDirectory: ports.tree.root, reviewing: review !== undefined };
    return publishReuse(reuse, at, prepared, ports);
  }
  const generated = await generate(prepared, settings, ports);
  // For review, merge conflicts go to the branch with their markers; otherwise they fail the run.
  const check = (d: Generated) => checkAndPlan(d, settings, where, review !== undefined);
  const checked = await check(generated);
  const scanned = await scan(checked, settings, where);
  const validated = await validateAndRepair(scanned, settings, {
    ...ports,
    recheck: async (d) => scan(await check(d), settings, where),
  });
  const reported = reportFindings(validated, settings, where);
  const record = await recordRun(reported, settings, { ...ports, ...buildInfo });
  const reviewed = review
    ? await publishForReview(review.target, record, reported, {
        ...ports,
        ...buildInfo,
        review: review.ports,
      })
    : undefined;
  const conflicts = reported.plan.conflicts.map((c) => c.path);
  if (conflicts.length)
    ports.log.warn(
      `${conflicts.length} file(s) have merge conflicts: they are in the pull request with conflict markers, and the output directory was left unchanged.`,
    );
  else await commit(record, ports);

  const result: SynthesisResult = {
    intent: reported.intent,
    manifest: record.manifest,
    manifestPath,
    outputDirectory: ports.tree.root,
    ...(reported.modelSummary ? { modelSummary: reported.modelSummary } : {}),
    findings: reported.findings,
    ...(reported.sarifPath ? { sarifPath: reported.sarifPath } : {}),
    ...(reviewed ? { review: reviewed } : {}),
    conflicts,
    written: conflicts.length === 0,
  };
  publish(result, ports);
  return result;
}

function joinPath(root: string, relative: string): string {
  const sep = root.includes('\\') && !root.includes('/') ? '\\' : '/';
  return root.replace(/[\\/]+$/, '') + sep + relative.split('/').join(sep);
}
