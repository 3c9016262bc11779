/**
 * The review stage (reviewMode 'pullRequest': Azure Repos Git, or GitHub in the action): its target
 * settled before the model is asked (the branches, where the output directory sits in the repository),
 * then, once everything is checked, scanned and validated and before the output directory is written,
 * one push of every file the run leaves (the files, the base copies, the prompt records, the manifest)
 * to the review branch, and the pull request opened or updated. A failed push leaves the output
 * directory unchanged.
 */
import type { Prepared, Scanned, Validated } from './draft';
import { escapeMarkdown } from './summary';
import { throwIfAborted } from './generate';
import type { ConflictedFile } from './plan';
import type { BuildInfo, Logger } from './ports';
import type { RunRecord } from './record';
import {
  REVIEW_LABEL,
  buildReviewDescription,
  buildSummaryUrl,
  repositoryFiles,
  repositoryPath,
  resolveBranches,
  reviewCommitMessage,
  reviewTitle,
  type BuildContext,
  type DescriptionLimit,
  type DescriptionSection,
  type ReviewPublisher,
  type ReviewResult,
  type ReviewSettings,
} from './review';

/** What the review stage needs from the world, composed only in pullRequest mode. */
export interface ReviewPorts {
  /** The build's variables, read (and the repository provider checked) by the composition. */
  context: BuildContext;
  /** Loads the publisher (azure-devops-node-api; the GitHub REST API in the action) when the push is due. */
  publisher(): Promise<ReviewPublisher>;
  /**
   * The page of the run the description links to; by default the Azure Pipelines build summary, from
   * the context's collection, project and build id.
   */
  summaryUrl?: string;
  /** The service's limit on a description; Azure DevOps' 4,000 characters by default. */
  descriptionLimit?: DescriptionLimit;
}

/** Where the run's files go for review. */
export interface ReviewTarget {
  branch: string;
  targetBranch: string;
  /** The output directory relative to the repository root ('' for the root). */
  prefix: string;
  context: BuildContext;
  draft: boolean;
  reviewers: string[];
}

/**
 * Where the review goes, settled before the model is called: the review and target branches and the
 * output directory's place in the repository.
 * @throws ReviewError when the output directory is not inside Build.SourcesDirectory, when the build's
 *   branch cannot be a target, or when both branches are one.
 */
export function resolveReviewTarget(
  draft: Prepared,
  settings: Extract<ReviewSettings, { mode: 'pullRequest' }>,
  review: ReviewPorts,
  outputDirectory: string,
  log: Pick<Logger, 'info'>,
): ReviewTarget {
  const prefix = repositoryPath(outputDirectory, review.context.sourcesDirectory);
  const { branch, targetBranch } = resolveBranches(draft.intent, settings, review.context.sourceBranch);
  log.info(
    `Review: the files will be pushed to branch '${branch}' and proposed in a pull request into '${targetBranch}'.`,
  );
  return {
    branch,
    targetBranch,
    prefix,
    context: review.context,
    draft: settings.draft,
    reviewers: settings.reviewers,
  };
}

export interface PublishForReviewPorts {
  log: Logger;
  signal: AbortSignal;
  version: string;
  build?: BuildInfo;
  review: ReviewPorts;
}

/**
 * Push every file of the record in one commit and open or update the pull request, its description the
 * run's summary (conflicts, findings, validation rounds, model, tokens, files, a link to the build).
 * @throws ReviewError naming what to fix (permission, identity, where to grant it); CancelledError
 *   before the push.
 */
export async function publishForReview(
  target: ReviewTarget,
  record: RunRecord,
  draft: Scanned & Validated,
  ports: PublishForReviewPorts,
): Promise<ReviewResult> {
  throwIfAborted(ports.signal);
  const publisher = await ports.review.publisher();
  const { context } = target;
  const buildUrl =
    ports.review.summaryUrl ??
    (context.buildId && context.collectionUri && context.project
      ? buildSummaryUrl(context.collectionUri, context.project, context.buildId)
      : undefined);
  const result = await publisher.publish(
    {
      repositoryId: context.repositoryId,
      ...(context.project ? { project: context.project } : {}),
      branch: target.branch,
      targetBranch: target.targetBranch,
      baseCommit: context.sourceVersion,
      files: repositoryFiles(target.prefix, record.tree),
      commitMessage: reviewCommitMessage(draft.intent, ports.version, ports.build?.buildNumber),
      title: reviewTitle(draft.intent),
      description: buildReviewDescription({
        manifest: record.manifest,
        ...(buildUrl ? { buildUrl } : {}),
        sections: descriptionSections(draft),
        ...(ports.review.descriptionLimit ? { limit: ports.review.descriptionLimit } : {}),
      }),
      draft: target.draft,
      reviewers: target.reviewers,
      label: REVIEW_LABEL,
    },
    ports.signal,
  );
  return result;
}

/** The description's sections: conflicts to resolve, scan findings, validation rounds. */
export function descriptionSections(draft: Scanned & Validated): DescriptionSection[] {
  const sections: DescriptionSection[] = [];
  if (draft.plan.conflicts.length)
    sections.push({
      heading: 'Merge conflicts to resolve',
      lines: [
        `These ${draft.plan.conflicts.length} file(s) hold lines both a person and the model changed, between conflict markers ` +
          '(`<<<<<<< yours`, `||||||| last generation`, `=======`, `>>>>>>> generated`). Resolve them in this pull request.',
        '',
        ...draft.plan.conflicts.map(conflictLine),
      ],
    });
  if (draft.findings.length)
    sections.push({
      heading: 'Scan findings',
      lines: draft.findings.map(
        (f) => `- ${escapeMarkdown(f.path)}:${f.line} ${escapeMarkdown(f.ruleId)} (${f.severity})`,
      ),
    });
  if (draft.validation.length)
    sections.push({
      heading: 'Validation',
      lines: draft.validation.map(
        (r) =>
          `- Round ${r.round}: ${escapeMarkdown(r.command.split(/\r?\n/)[0]!.slice(0, 120))} exited ${r.exitCode} in ${Math.round(r.durationMs / 100) / 10} s${r.changedFiles.length ? ` after the model changed ${r.changedFiles.length} file(s)` : ''}`,
      ),
    });
  return sections;
}

function conflictLine(file: ConflictedFile): string {
  return `- ${escapeMarkdown(file.path)}: lines ${file.conflicts.map((c) => `${c.startLine}-${c.endLine}`).join(', ')}`;
}
