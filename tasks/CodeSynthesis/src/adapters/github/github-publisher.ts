/**
 * ReviewPublisher over GitHub, with the workflow's token (GITHUB_TOKEN) and the REST API's Git data
 * endpoints: the files become blobs, a tree on the base commit's tree, one commit, and the review
 * branch is created or moved to it (fast-forward only). Then the open pull request from that branch
 * into the target gets the new body, or a new one is opened (draft, reviewers, label).
 * Every failure becomes a ReviewError naming the operation; a token without the rights names the
 * `permissions:` the job needs. GitHub's own text goes to debug output only.
 */
import fs from 'node:fs/promises';
import { CancelledError } from '../../core/errors';
import type { Logger } from '../../core/ports';
import {
  REVIEW_INPUTS,
  ReviewError,
  cut,
  type ReviewPublisher,
  type ReviewRequest,
  type ReviewResult,
} from '../../core/review';
import { showPath } from '../../core/paths';
import { createFetch, loadNetwork } from '../net/network';
import { describeNetworkFailure } from '../net/network-errors';
import { safeHost, snippet } from '../net/remote-text';
import type { AgentHost } from '../pipeline/agent-host';
import { GitHubApiError, GitHubRest, encodePath } from './github-rest';
import { GITHUB_DESCRIPTION_LIMIT, TOKEN_INPUT, parseRepository, type Repo } from './github-review';

export interface GitHubPublisherOptions {
  /** GITHUB_API_URL */
  apiUrl: string;
  /** GITHUB_SERVER_URL, for links when a response lacks one. */
  serverUrl: string;
  /** Already set secret. */
  token: string;
  /** A fetch that applies the runner's proxy and CA (createFetch). */
  fetch: typeof globalThis.fetch;
  userAgent: string;
  /** Progress, warnings, and GitHub's answers (debug, through the untrusted channel). */
  log: Logger;
}

/** The `permissions:` scope a call needs. */
type Scope = 'contents' | 'pull-requests';

/** One call, for messages: what was being done, in words, and the scope it needs. */
interface Operation {
  doing: string;
  scope: Scope;
  /** The branch a 422 "not a fast forward" or "already exists" is about. */
  branch?: string;
}

interface PullRequestJson {
  number: number;
  html_url?: string;
}

const SHA = /^[0-9a-f]{40}$/;
/** Blobs are created a few at a time. */
const BLOB_CONCURRENCY = 4;

export class GitHubPublisher implements ReviewPublisher {
  private readonly rest: GitHubRest;

  constructor(private readonly options: GitHubPublisherOptions) {
    this.rest = new GitHubRest(options);
  }

  async publish(request: ReviewRequest, signal: AbortSignal): Promise<ReviewResult> {
    const repo = parseRepository(request.repositoryId);
    const { branch } = request;
    const head = await this.branchHead(repo, branch, signal);
    const parent = head ?? request.baseCommit;
    const baseTree = await this.treeOf(repo, parent, head === undefined, signal);
    const tree = await this.writeTree(repo, baseTree, request, signal);
    let commitId: string;
    if (head && tree === baseTree) {
      this.options.log.info(`Branch '${branch}' already holds these files: no new commit.`);
      commitId = head;
    } else {
      const commit = await this.call(
        { doing: `create the commit for branch '${branch}'`, scope: 'contents' },
        () =>
          this.rest.request<{ sha: string }>(
            'POST',
            `${repo.path}/git/commits`,
            { message: request.commitMessage, tree, parents: [parent] },
            signal,
          ),
        signal,
      );
      commitId = checkSha(commit?.sha, 'the new commit');
      // Nothing is visible until the branch moves: a cancel up to here leaves the repository as it was.
      if (signal.aborted) throw new CancelledError();
      await this.moveBranch(repo, branch, head, commitId);
      this.options.log.info(
        `Pushed ${request.files.length} file(s) to '${branch}' of ${repo.owner}/${repo.name} as commit ${commitId.slice(0, 12)}${head ? '' : ` (new branch from ${parent.slice(0, 12)})`}.`,
      );
    }
    const { pr, created } = await this.openOrUpdate(repo, request);
    const pullRequestUrl =
      typeof pr.html_url === 'string' && /^https?:\/\//.test(pr.html_url)
        ? pr.html_url
        : `${this.options.serverUrl.replace(/\/+$/, '')}/${repo.owner}/${repo.name}/pull/${pr.number}`;
    this.options.log.untrusted(
      `${created ? 'Opened' : 'Updated'} pull request #${pr.number} from '${branch}' into '${request.targetBranch}': ${pullRequestUrl}`,
      'info',
    );
    return { pullRequestId: pr.number, pullRequestUrl, branch, created, commitId };
  }

  /** The commit `refs/heads/<branch>` points at, or undefined when there is no such branch. */
  private async branchHead(repo: Repo, branch: string, signal: AbortSignal): Promise<string | undefined> {
    try {
      const ref = await this.rest.request<{ ref?: string; object?: { sha?: string } }>(
        'GET',
        `${repo.path}/git/ref/heads/${encodePath(branch)}`,
        undefined,
        signal,
      );
      // GET git/ref answers an exact match only; a list (prefix matches) means there is none.
      return ref?.ref === `refs/heads/${branch}`
        ? checkSha(ref.object?.sha, `branch '${branch}'`)
        : undefined;
    } catch (err) {
      if (err instanceof GitHubApiError && err.status === 404 && !isIntegrationRefusal(err)) return undefined;
      if (signal.aborted) throw new CancelledError();
      throw this.explain(err, {
        doing: `look up branch '${branch}' in ${repo.owner}/${repo.name}`,
        scope: 'contents',
      });
    }
  }

  /** The tree of `commit`. For a new branch `commit` is the build's, which may not exist on GitHub. */
  private async treeOf(repo: Repo, commit: string, isBase: boolean, signal: AbortSignal): Promise<string> {
    try {
      const found = await this.rest.request<{ tree?: { sha?: string } }>(
        'GET',
        `${repo.path}/git/commits/${encodeURIComponent(commit)}`,
        undefined,
        signal,
      );
      return checkSha(found?.tree?.sha, `the tree of commit ${commit.slice(0, 12)}`);
    } catch (err) {
      if (signal.aborted) throw new CancelledError();
      if (
        isBase &&
        err instanceof GitHubApiError &&
        (err.status === 404 || err.status === 422) &&
        !isIntegrationRefusal(err)
      )
        throw new ReviewError(
          `Commit ${showPath(commit.slice(0, 40))}, which the review branch would start from, is not in ${repo.owner}/${repo.name} on GitHub.`,
          REVIEW_INPUTS.reviewTargetBranch,
          'Run the action on a commit that was pushed to the repository (push or workflow_dispatch events); a local commit or a pull request from a fork cannot be the base.',
          { cause: err },
        );
      throw this.explain(err, { doing: `read commit ${commit.slice(0, 12)}`, scope: 'contents' });
    }
  }

  /** Blobs for every file (base64: the exact bytes), then one tree on `baseTree`. Returns the tree's sha. */
  private async writeTree(
    repo: Repo,
    baseTree: string,
    request: ReviewRequest,
    signal: AbortSignal,
  ): Promise<string> {
    const shas: string[] = [];
    for (let i = 0; i < request.files.length; i += BLOB_CONCURRENCY) {
      const batch = request.files.slice(i, i + BLOB_CONCURRENCY);
      const created = await Promise.all(
        batch.map((f) =>
          this.call(
            { doing: `upload ${showPath(f.path)}`, scope: 'contents' },
            () =>
              this.rest.request<{ sha: string }>(
                'POST',
                `${repo.path}/git/blobs`,
                { content: Buffer.from(f.content, 'utf8').toString('base64'), encoding: 'base64' },
                signal,
              ),
            signal,
          ),
        ),
      );
      shas.push(...created.map((b, j) => checkSha(b?.sha, `the blob of ${showPath(batch[j]!.path)}`)));
    }
    const tree = await this.call(
      { doing: `create the tree for branch '${request.branch}'`, scope: 'contents' },
      () =>
        this.rest.request<{ sha: string }>(
          'POST',
          `${repo.path}/git/trees`,
          {
            base_tree: baseTree,
            tree: request.files.map((f, i) => ({ path: f.path, mode: '100644', type: 'blob', sha: shas[i] })),
          },
          signal,
        ),
      signal,
    );
    return checkSha(tree?.sha, 'the new tree');
  }

  /** Create the branch at `commit`, or move it there from `head` (fast-forward only). */
  private async moveBranch(
    repo: Repo,
    branch: string,
    head: string | undefined,
    commit: string,
  ): Promise<void> {
    const op: Operation = {
      doing: `push the generated files to branch '${branch}'`,
      scope: 'contents',
      branch,
    };
    if (head)
      await this.call(op, () =>
        this.rest.request('PATCH', `${repo.path}/git/refs/heads/${encodePath(branch)}`, {
          sha: commit,
          force: false,
        }),
      );
    else
      await this.call(op, () =>
        this.rest.request('POST', `${repo.path}/git/refs`, { ref: `refs/heads/${branch}`, sha: commit }),
      );
  }

  /**
   * The open pull request from the branch into the target gets the new body; without one, a pull
   * request is opened, then reviewers and the label are added (failures there are warnings: the pull
   * request exists). When another run opened one in between (422 "already exists"), that one is updated.
   */
  private async openOrUpdate(
    repo: Repo,
    request: ReviewRequest,
  ): Promise<{ pr: PullRequestJson; created: boolean }> {
    const body = cut(request.description, GITHUB_DESCRIPTION_LIMIT.chars);
    const open = await this.findOpen(repo, request);
    if (open) return { pr: await this.updateBody(repo, open, body), created: false };
    const create = (draft: boolean) =>
      this.rest.request<PullRequestJson>('POST', `${repo.path}/pulls`, {
        title: cut(request.title, 256),
        head: request.branch,
        base: request.targetBranch,
        body,
        draft,
        maintainer_can_modify: true,
      });
    const op: Operation = { doing: `open the pull request from '${request.branch}'`, scope: 'pull-requests' };
    let pr: PullRequestJson;
    try {
      pr = await create(request.draft);
    } catch (err) {
      const text = err instanceof GitHubApiError && err.status === 422 ? err.text : '';
      if (/pull request already exists/i.test(text)) {
        const raced = await this.findOpen(repo, request);
        if (raced) return { pr: await this.updateBody(repo, raced, body), created: false };
      }
      if (request.draft && /draft pull requests are not supported/i.test(text)) {
        this.options.log.warn(
          `Draft pull requests are not available in ${repo.owner}/${repo.name} (its plan or visibility): opening a ready-for-review pull request instead.`,
        );
        pr = await this.call(op, () => create(false));
      } else throw this.explain(err, op);
    }
    if (typeof pr?.number !== 'number') {
      this.options.log.untrusted(`Pull request response: ${snippet(pr)}`, 'debug');
      throw new ReviewError(
        `GitHub answered the creation of the pull request from '${request.branch}' without its number.`,
        'GitHub',
        'Run again; if it persists, re-run the job with debug logging to see the service response.',
      );
    }
    await this.decorate(repo, pr.number, request);
    return { pr, created: true };
  }

  /** Reviewers (logins; `org/team` for teams) and the label. A failure is a warning naming what to fix. */
  private async decorate(repo: Repo, number: number, request: ReviewRequest): Promise<void> {
    const users = request.reviewers.filter((r) => !r.includes('/'));
    const teams = request.reviewers.filter((r) => r.includes('/')).map((r) => r.slice(r.indexOf('/') + 1));
    const attempts: Array<{ what: string; op: Operation; run: () => Promise<unknown> }> = [];
    if (users.length || teams.length)
      attempts.push({
        what: `request reviews from ${request.reviewers.join(', ')}`,
        op: { doing: `request reviewers on pull request #${number}`, scope: 'pull-requests' },
        run: () =>
          this.rest.request('POST', `${repo.path}/pulls/${number}/requested_reviewers`, {
            reviewers: users,
            team_reviewers: teams,
          }),
      });
    if (request.label)
      attempts.push({
        what: `add the label '${request.label}'`,
        op: { doing: `label pull request #${number}`, scope: 'pull-requests' },
        // Labels of pull requests live on the issue of the same number; a missing label is created.
        run: () =>
          this.rest.request('POST', `${repo.path}/issues/${number}/labels`, { labels: [request.label] }),
      });
    for (const attempt of attempts) {
      try {
        await attempt.run();
      } catch (err) {
        const reason = this.explain(err, attempt.op);
        const collaborators =
          err instanceof GitHubApiError && err.status === 422 && /collaborator/i.test(err.text)
            ? ` Reviewers must be collaborators of ${repo.owner}/${repo.name} (logins, or org/team for a team), and the pull request's author cannot be one; check '${REVIEW_INPUTS.reviewers}'.`
            : '';
        this.options.log.warn(
          `Pull request #${number} is open, but the action could not ${attempt.what}: ${reason.describe()}${collaborators}`,
        );
      }
    }
  }

  /** The open pull request from the review branch into the target, if there is one. */
  private async findOpen(repo: Repo, request: ReviewRequest): Promise<PullRequestJson | undefined> {
    const query = new URLSearchParams({
      state: 'open',
      head: `${repo.owner}:${request.branch}`,
      base: request.targetBranch,
      per_page: '10',
    });
    const open = await this.call(
      { doing: `find the open pull request from '${request.branch}'`, scope: 'pull-requests' },
      () => this.rest.request<PullRequestJson[]>('GET', `${repo.path}/pulls?${query}`),
    );
    return (Array.isArray(open) ? open : []).find((p) => typeof p?.number === 'number');
  }

  /** Give the pull request the new body; its title, draft state and reviewers stay as people left them. */
  private async updateBody(repo: Repo, pr: PullRequestJson, body: string): Promise<PullRequestJson> {
    const updated = await this.call(
      { doing: `update pull request #${pr.number}`, scope: 'pull-requests' },
      () => this.rest.request<PullRequestJson>('PATCH', `${repo.path}/pulls/${pr.number}`, { body }),
    );
    return { number: pr.number, html_url: updated?.html_url ?? pr.html_url };
  }

  /** Run one call; turn its failure into a ReviewError. With `signal`, an abort is a cancel. */
  private async call<T>(op: Operation, run: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await run();
    } catch (err) {
      if (signal?.aborted) throw new CancelledError();
      throw this.explain(err, op);
    }
  }

  /** One ReviewError for a failed call; GitHub's text goes to debug output only. */
  private explain(err: unknown, op: Operation): ReviewError {
    if (err instanceof ReviewError) return err;
    const host = safeHost(this.options.apiUrl);
    if (!(err instanceof GitHubApiError)) {
      const net = describeNetworkFailure(err, `GitHub (${host})`);
      if (net) return new ReviewError(net.message, net.subject, net.hint, { cause: err });
      return new ReviewError(
        `The action could not ${op.doing}: ${err instanceof Error ? err.name : 'unknown error'}.`,
        'GitHub',
        'Run again; if it persists, re-run the job with debug logging (ACTIONS_STEP_DEBUG) to see the cause.',
        { cause: err },
      );
    }
    this.options.log.untrusted(
      `GitHub answered HTTP ${err.status}${err.requestId ? ` (request ${err.requestId})` : ''} when asked to ${op.doing}: ${snippet(err.body)}`,
      'debug',
    );
    const where = `HTTP ${err.status}`;
    const text = err.text;
    if (err.status === 401)
      return new ReviewError(
        `GitHub rejected the token when asked to ${op.doing} (${where}: bad credentials).`,
        TOKEN_INPUT,
        `Leave '${TOKEN_INPUT}' at its default (the workflow's token, \${{ github.token }}), or give a token that may write to the repository; a workflow's token is valid only while its job runs.`,
        { cause: err },
      );
    if (/not permitted to create or approve pull requests/i.test(text))
      return new ReviewError(
        `GitHub does not let workflows of this repository ${op.doing} (${where}: GitHub Actions is not permitted to create or approve pull requests).`,
        'repository settings',
        "An administrator must turn on 'Allow GitHub Actions to create and approve pull requests' in the repository's Settings > Actions > General > Workflow permissions (for an organization's repository, in the organization's settings first), or give the action a token of its own in 'github-token'.",
        { cause: err },
      );
    if (isIntegrationRefusal(err))
      return new ReviewError(
        `The workflow's token may not ${op.doing} (${where}: resource not accessible by integration): it lacks '${op.scope}: write'.`,
        'permissions',
        `Give the job 'permissions: { contents: write, pull-requests: write }' (pushing the branch needs contents, the pull request needs pull-requests), and turn on 'Allow GitHub Actions to create and approve pull requests' in Settings > Actions > General. Workflows run for pull requests from forks get a read-only token whatever they ask for.`,
        { cause: err },
      );
    if (err.rateLimited || err.status === 429 || /rate limit/i.test(text))
      return new ReviewError(
        `GitHub's API rate limit stopped the action when asked to ${op.doing} (${where}).`,
        'GitHub',
        'Run again later; the branch and the pull request are updated in place, so a second run does not duplicate them.',
        { cause: err },
      );
    if (err.status === 422 && op.branch && /not a fast forward|reference already exists/i.test(text))
      return new ReviewError(
        `Branch '${op.branch}' changed while the action was pushing to it (${where}); nothing was pushed.`,
        REVIEW_INPUTS.reviewBranch,
        'Run again: the next push goes on top of the new head.',
        { cause: err },
      );
    if (err.status === 404)
      return new ReviewError(
        `GitHub found nothing when asked to ${op.doing} (${where}): the repository does not exist, or the token may not read it.`,
        'permissions',
        `Check GITHUB_REPOSITORY, and that the token may read the repository (permissions: contents: read at least, write to push).`,
        { cause: err },
      );
    return new ReviewError(
      `GitHub refused to ${op.doing} (${where}).`,
      'GitHub',
      err.status >= 500
        ? 'GitHub had a problem; run again. If it persists, re-run the job with debug logging to see the service response.'
        : "Check the branches and the token's permissions; re-run the job with debug logging to see the service response.",
      { cause: err },
    );
  }
}

/**
 * The publisher of the action's review mode: the REST API at `apiUrl` with `token` (set secret here),
 * through the runner's proxy and CA as the host reports them.
 */
export async function createGitHubPublisher(
  host: AgentHost,
  target: { apiUrl: string; serverUrl: string; token: string; userAgent: string },
): Promise<GitHubPublisher> {
  host.setSecret(target.token);
  const network = await loadNetwork(
    host.proxy(),
    host.certificates(),
    (p) => fs.readFile(p, 'utf8'),
    (v) => host.setSecret(v),
  );
  return new GitHubPublisher({ ...target, fetch: createFetch(network).fetch, log: host });
}

/** 403, or 404 on some endpoints, "Resource not accessible by integration": the token lacks a permission. */
function isIntegrationRefusal(err: GitHubApiError): boolean {
  return (
    (err.status === 403 || err.status === 404) && /resource not accessible by integration/i.test(err.text)
  );
}

function checkSha(sha: unknown, what: string): string {
  if (typeof sha === 'string' && SHA.test(sha)) return sha;
  throw new ReviewError(
    `GitHub answered without a valid id for ${what}.`,
    'GitHub',
    'Run again; if it persists, re-run the job with debug logging to see the service response.',
  );
}
