/**
 * What a pull request on GitHub needs from the run, read before the model is asked: the runner's
 * variables (GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_REF, GITHUB_WORKSPACE, the run's address) as the
 * review stage's BuildContext, GitHub's limit on a description, and the syntax of GitHub reviewers and
 * repository names. No Azure DevOps provider check applies here. No I/O: the host reads the variables.
 */
import { InputError } from '../../core/errors';
import { showPath } from '../../core/paths';
import { REVIEW_INPUTS, ReviewError, type BuildContext, type DescriptionLimit } from '../../core/review';
import { ACTION_INPUTS } from '../pipeline/action-contract';

/** GitHub refuses a pull request body longer than this ("body is too long (maximum is 65536 characters)"). */
export const GITHUB_DESCRIPTION_LIMIT: DescriptionLimit = { chars: 65536, service: "GitHub's" };

/** The action input holding the token. */
export const TOKEN_INPUT = ACTION_INPUTS.githubToken;

/** A repository as the REST API addresses it. */
export interface Repo {
  owner: string;
  name: string;
  /** `/repos/<owner>/<name>`, encoded. */
  path: string;
}

/** Where a review on GitHub goes, and the run it links to. */
export interface GitHubReviewContext {
  /** For the review stage: the repository (owner/name), the commit, the ref, the workspace as the repository root. */
  context: BuildContext;
  /** The workflow run's page, linked from the description. */
  runUrl?: string;
  /** GITHUB_API_URL: https://api.github.com, or https://<host>/api/v3 on GitHub Enterprise Server. */
  apiUrl: string;
  /** GITHUB_SERVER_URL, for links. */
  serverUrl: string;
}

/**
 * The runner's variables a review needs. `workspace` is GITHUB_WORKSPACE resolved (the checkout).
 * @throws ReviewError naming every variable that is missing, or GITHUB_REPOSITORY when it is not owner/name.
 */
export function readGitHubReviewContext(
  variable: (name: string) => string | undefined,
  workspace: string,
): GitHubReviewContext {
  const get = (name: string) => variable(name)?.trim() || undefined;
  const missing = ['GITHUB_REPOSITORY', 'GITHUB_SHA'].filter((n) => !get(n));
  if (missing.length)
    throw new ReviewError(
      `review-mode 'pullRequest' needs the runner's variables ${missing.join(', ')}, which are not set.`,
      REVIEW_INPUTS.reviewMode,
      'Run the action in a GitHub Actions job, where the runner sets them.',
    );
  const repository = get('GITHUB_REPOSITORY')!;
  parseRepository(repository);
  const serverUrl = (get('GITHUB_SERVER_URL') ?? 'https://github.com').replace(/\/+$/, '');
  const apiUrl = get('GITHUB_API_URL') ?? 'https://api.github.com';
  const ref = get('GITHUB_REF');
  const runId = get('GITHUB_RUN_ID');
  return {
    context: {
      repositoryId: repository,
      sourceVersion: get('GITHUB_SHA')!,
      ...(ref ? { sourceBranch: ref } : {}),
      sourcesDirectory: workspace,
      ...(runId ? { buildId: runId } : {}),
    },
    ...(runId ? { runUrl: `${serverUrl}/${repository}/actions/runs/${encodeURIComponent(runId)}` } : {}),
    apiUrl,
    serverUrl,
  };
}

const REPOSITORY = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/;

/**
 * `owner/name` (GITHUB_REPOSITORY) split and checked.
 * @throws ReviewError when it is not of that form.
 */
export function parseRepository(id: string): Repo {
  const m = REPOSITORY.exec(id.trim());
  if (!m)
    throw new ReviewError(
      `${showPath(id)} is not a GitHub repository name of the form owner/name.`,
      'GITHUB_REPOSITORY',
      'Run the action in a GitHub Actions job, where the runner sets GITHUB_REPOSITORY.',
    );
  const segment = (s: string) => encodeURIComponent(s);
  return { owner: m[1]!, name: m[2]!, path: `/repos/${segment(m[1]!)}/${segment(m[2]!)}` };
}

const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const TEAM = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9._-]{1,100}$/;

/**
 * Reviewers on GitHub: user logins, and `org/team-slug` for teams, one per line or separated by
 * commas or semicolons; a leading '@' is dropped; duplicates dropped (letter case ignored). The
 * action's parser of the `reviewers` input (run's ParseOptions).
 * @throws InputError listing every entry that is neither.
 */
export function parseGitHubReviewers(text: string | undefined): string[] {
  const entries = (text ?? '')
    .split(/[\r\n,;]+/)
    .map((e) => e.trim().replace(/^@/, ''))
    .filter(Boolean);
  const bad = entries.filter((e) => !LOGIN.test(e) && !TEAM.test(e));
  if (bad.length)
    throw new InputError(
      REVIEW_INPUTS.reviewers,
      `${bad.map((b) => showPath(b)).join(', ')} ${bad.length === 1 ? 'is not a GitHub login or team' : 'are not GitHub logins or teams'}.`,
      'Give user logins (octocat) or teams as org/team-slug, separated by commas or new lines.',
    );
  const kept = new Map<string, string>();
  for (const e of entries) if (!kept.has(e.toLowerCase())) kept.set(e.toLowerCase(), e);
  return [...kept.values()];
}
