/**
 * Review mode of the GitHub Action (review-mode: pullRequest), until the use case publishes for review
 * itself through the ReviewPublisher port: once the files are written to the workspace, the same
 * files (the manifest and prompt record included) are pushed to the review branch and the pull
 * request is opened or updated (adapters/github/github-publisher.ts).
 *
 * Interim by design: it wraps the TreeStore so that a failure to publish still ends in run.ts (the one
 * place that sets the result). When the refactored use case gains its publish stage, this file goes and
 * the action's composition passes a GitHubPublisher instead (see the README's GitHub section).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { ACTION_INPUTS, ACTION_OUTPUTS } from './adapters/pipeline/action-contract';
import type { ActionsHost } from './adapters/pipeline/actions-host';
import {
  GITHUB_DESCRIPTION_LIMIT,
  GitHubPublisher,
  TOKEN_INPUT,
  parseGitHubReviewers,
  parseRepository,
} from './adapters/github/github-publisher';
import { createFetch, loadNetwork } from './adapters/net/network';
import { MANIFEST_PATH } from './core/contract';
import { isSynthesisError } from './core/errors';
import type { Intent } from './core/intent';
import type { Manifest } from './core/manifest';
import type { FileToWrite, TreeStore } from './core/ports';
import {
  REVIEW_INPUTS,
  REVIEW_LABEL,
  ReviewError,
  buildReviewDescription,
  parseReviewSettings,
  repositoryFiles,
  repositoryPath,
  resolveBranches,
  reviewCommitMessage,
  reviewTitle,
  type ReviewSettings,
} from './core/review';
import { VERSION } from './version';

/** Review settings from the action's inputs; reviewers are GitHub logins or org/team. */
export function readActionReviewSettings(host: ActionsHost): ReviewSettings {
  const settings = parseReviewSettings({
    [REVIEW_INPUTS.reviewMode]: host.getActionInput(ACTION_INPUTS.reviewMode),
    [REVIEW_INPUTS.reviewBranch]: host.getActionInput(ACTION_INPUTS.reviewBranch),
    [REVIEW_INPUTS.reviewTargetBranch]: host.getActionInput(ACTION_INPUTS.reviewTargetBranch),
    [REVIEW_INPUTS.reviewDraft]: host.getActionInput(ACTION_INPUTS.reviewDraft),
  });
  if (settings.mode === 'none') return settings;
  return {
    ...settings,
    reviewers: parseGitHubReviewers(host.getActionInput(ACTION_INPUTS.reviewers), REVIEW_INPUTS.reviewers),
  };
}

/** What a publication needs from the run, checked before the model is asked. */
interface ReviewContext {
  settings: Extract<ReviewSettings, { mode: 'pullRequest' }>;
  repository: string;
  baseCommit: string;
  /** The output directory's path in the repository ('' for its root). */
  prefix: string;
  token: string;
  runUrl?: string;
}

/**
 * Check what review mode needs (the runner's variables, the token, an output directory inside the
 * workspace) and return the TreeStore that publishes after each successful write.
 * @throws ReviewError naming what is missing.
 */
export function withReview(
  tree: TreeStore,
  settings: Extract<ReviewSettings, { mode: 'pullRequest' }>,
  host: ActionsHost,
  intent: () => Intent | undefined,
): TreeStore {
  const env = process.env;
  const missing = ['GITHUB_REPOSITORY', 'GITHUB_SHA'].filter((n) => !env[n]);
  if (missing.length)
    throw new ReviewError(
      `review-mode 'pullRequest' needs the runner's variables ${missing.join(', ')}, which are not set.`,
      REVIEW_INPUTS.reviewMode,
      'Run the action in a GitHub Actions job.',
    );
  const repository = env.GITHUB_REPOSITORY!;
  parseRepository(repository);
  const token = host.getActionInput(ACTION_INPUTS.githubToken);
  if (!token)
    throw new ReviewError(
      `review-mode 'pullRequest' needs a token for the GitHub API, and '${TOKEN_INPUT}' is empty.`,
      TOKEN_INPUT,
      `Leave '${TOKEN_INPUT}' at its default (\${{ github.token }}) and give the job 'permissions: { contents: write, pull-requests: write }'.`,
    );
  host.setSecret(token);
  const server = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  const context: ReviewContext = {
    settings,
    repository,
    baseCommit: env.GITHUB_SHA!,
    prefix: repositoryPath(tree.root, host.workspace),
    token,
    ...(env.GITHUB_RUN_ID ? { runUrl: `${server}/${repository}/actions/runs/${env.GITHUB_RUN_ID}` } : {}),
  };
  return {
    get root() {
      return tree.root;
    },
    inspect: (paths) => tree.inspect(paths),
    async commit(files, signal) {
      await tree.commit(files, signal);
      const current = intent();
      if (!current) throw new Error('the intent was not recorded before the files were written');
      try {
        await publish(context, host, tree.root, files, current);
      } catch (err) {
        // Unlike every other failure, this one comes after the write: say so.
        if (!isSynthesisError(err)) throw err;
        throw new ReviewError(
          `${err.message} The files were written to ${tree.root}; the pull request was not opened or updated.`,
          err.subject,
          err.hint,
          { cause: err },
        );
      }
    },
  };
}

async function publish(
  context: ReviewContext,
  host: ActionsHost,
  root: string,
  written: readonly FileToWrite[],
  intent: Intent,
): Promise<void> {
  const env = process.env;
  const { branch, targetBranch } = resolveBranches(intent, context.settings, env.GITHUB_REF);
  const manifestFile = written.find((f) => f.path === MANIFEST_PATH);
  if (!manifestFile) throw new Error('the manifest is not among the files written');
  const manifest = JSON.parse(manifestFile.content) as Manifest;
  // Files already identical in the workspace were not rewritten, but belong on the branch all the same.
  const byPath = new Map(written.map((f) => [f.path, f]));
  for (const f of manifest.files)
    if (!byPath.has(f.path))
      byPath.set(f.path, { path: f.path, content: await fs.readFile(path.join(root, f.path), 'utf8') });
  const network = await loadNetwork(
    host.proxy(),
    host.certificates(),
    (p) => fs.readFile(p, 'utf8'),
    (v) => host.setSecret(v),
  );
  const publisher = new GitHubPublisher({
    apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
    serverUrl: env.GITHUB_SERVER_URL || 'https://github.com',
    token: context.token,
    fetch: createFetch(network).fetch,
    userAgent: `code-synthesis/${VERSION}`,
    log: host,
  });
  // The files are in the workspace now: like a move that has started, the publication completes.
  const result = await publisher.publish(
    {
      repositoryId: context.repository,
      branch,
      targetBranch,
      baseCommit: context.baseCommit,
      files: repositoryFiles(context.prefix, [...byPath.values()]),
      commitMessage: reviewCommitMessage(intent, VERSION, env.GITHUB_RUN_NUMBER),
      title: reviewTitle(intent),
      description: buildReviewDescription({
        manifest,
        ...(context.runUrl ? { buildUrl: context.runUrl } : {}),
        limit: GITHUB_DESCRIPTION_LIMIT,
      }),
      draft: context.settings.draft,
      reviewers: context.settings.reviewers,
      label: REVIEW_LABEL,
    },
    new AbortController().signal,
  );
  host.setActionOutput(ACTION_OUTPUTS.pullRequestId, String(result.pullRequestId));
  host.setActionOutput(ACTION_OUTPUTS.pullRequestUrl, result.pullRequestUrl);
  host.setActionOutput(ACTION_OUTPUTS.reviewBranch, result.branch);
  host.notice(
    `${result.created ? 'Opened' : 'Updated'} pull request #${result.pullRequestId}: ${result.pullRequestUrl}`,
  );
}
