/**
 * Fake GitHub REST API (api.github.com), as the GitHub publisher calls it: Git data (refs, commits,
 * blobs, trees), pull requests, requested reviewers and issue labels, with GitHub's error bodies
 * (`{message, errors?, documentation_url, status}`). It keeps a small Git history in memory (a tree is
 * a flat map of paths to blobs) so a push really moves a branch, checks the token and the headers
 * GitHub requires, plays the workflow token's `permissions:` and the repository's "Allow GitHub
 * Actions to create and approve pull requests" setting, and records every request.
 * Wire format: https://docs.github.com/rest/git and https://docs.github.com/rest/pulls (2022-11-28).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, type Route } from '../support/fake-azure';

const DOCS = 'https://docs.github.com/rest';

export interface FakeGitCommit {
  sha: string;
  tree: string;
  parents: string[];
  message: string;
}

export interface FakePull {
  number: number;
  state: 'open' | 'closed';
  head: string;
  base: string;
  title: string;
  body: string;
  draft: boolean;
  requestedReviewers: string[];
  requestedTeams: string[];
  labels: string[];
}

export interface SeenGitHubRequest {
  method: string;
  /** The path without the query. */
  path: string;
  query: URLSearchParams;
  body: unknown;
  headers: IncomingMessage['headers'];
}

export interface FakeGitHubOptions {
  owner: string;
  repo: string;
  /** The token accepted as Bearer (the workflow's GITHUB_TOKEN). */
  token: string;
  /** The files of the base commit (paths without a leading '/'). */
  files: Record<string, string>;
  /** The branch holding the base commit (default main). */
  defaultBranch?: string;
}

export interface FakeGitHub extends Route {
  /** The commit the default branch points at (GITHUB_SHA of a push to it). */
  baseCommit: string;
  commits: Map<string, FakeGitCommit>;
  /** refs/heads/<name> -> commit sha. */
  refs: Map<string, string>;
  pulls: FakePull[];
  requests: SeenGitHubRequest[];
  /** The workflow token's permissions (`permissions:` of the job). Both 'write' by default. */
  permissions: { contents: 'none' | 'read' | 'write'; pullRequests: 'read' | 'write' };
  /** Settings > Actions > General: "Allow GitHub Actions to create and approve pull requests". */
  allowActionsToCreatePullRequests: boolean;
  /** False: "Draft pull requests are not supported in this repository." (a private repository on a free plan). */
  draftsSupported: boolean;
  /** Users and teams (org/slug) reviews may be requested from. */
  collaborators: Set<string>;
  /** Open pull requests are left out of this many next searches (another run racing this one). */
  hideFromSearch: number;
  /** Called as a ref update arrives, before it is applied (to move a branch under it). */
  beforeRefUpdate?: () => void;
  /** Someone else pushes a commit changing `files` onto `branch` (created from the default branch if absent). Returns its sha. */
  pushAs(branch: string, files: Record<string, string>, message: string): string;
  /** The content of `path` on branch `name`, or undefined. */
  fileOn(branch: string, path: string): string | undefined;
  /** The paths of the tree of commit `sha`. */
  pathsAt(sha: string): string[];
  /** Requests with this method whose path matches. */
  calls(method: string, path: RegExp): SeenGitHubRequest[];
}

/** The JSON bodies the routes read (every field as a client may send it, unchecked). */
interface RequestBody {
  content?: unknown;
  encoding?: unknown;
  base_tree?: string;
  tree?: Array<{ path: string; mode: string; type: string; sha: string }>;
  parents?: string[];
  message?: unknown;
  ref?: string;
  sha?: string;
  force?: boolean;
  head?: string;
  base?: string;
  title?: unknown;
  body?: unknown;
  draft?: unknown;
  reviewers?: string[];
  team_reviewers?: string[];
  labels?: string[];
}

const gitSha = (kind: string, content: Buffer | string): string =>
  createHash('sha1')
    .update(`${kind} ${Buffer.byteLength(content)}\0`)
    .update(content)
    .digest('hex');

export function fakeGitHub(options: FakeGitHubOptions): FakeGitHub {
  const { owner, repo } = options;
  const blobs = new Map<string, Buffer>();
  const trees = new Map<string, Map<string, string>>();
  const commits = new Map<string, FakeGitCommit>();
  const refs = new Map<string, string>();
  const putTree = (entries: Map<string, string>): string => {
    const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const sha = gitSha('tree', JSON.stringify(sorted));
    trees.set(sha, new Map(sorted));
    return sha;
  };
  const putBlob = (content: Buffer): string => {
    const sha = gitSha('blob', content);
    blobs.set(sha, content);
    return sha;
  };
  const putCommit = (tree: string, parents: string[], message: string): string => {
    const sha = gitSha('commit', JSON.stringify({ tree, parents, message, n: commits.size }));
    commits.set(sha, { sha, tree, parents, message });
    return sha;
  };
  const rootTree = putTree(
    new Map(Object.entries(options.files).map(([p, c]) => [p, putBlob(Buffer.from(c))])),
  );
  const root = putCommit(rootTree, [], 'Initial commit');
  refs.set(`refs/heads/${options.defaultBranch ?? 'main'}`, root);
  let nextNumber = 1;

  const isAncestor = (ancestor: string, of: string): boolean => {
    const queue = [of];
    const seen = new Set<string>();
    while (queue.length) {
      const sha = queue.shift()!;
      if (sha === ancestor) return true;
      if (seen.has(sha)) continue;
      seen.add(sha);
      queue.push(...(commits.get(sha)?.parents ?? []));
    }
    return false;
  };
  const pullJson = (req: IncomingMessage, p: FakePull) => ({
    url: `https://${req.headers.host}/repos/${owner}/${repo}/pulls/${p.number}`,
    id: 1000 + p.number,
    number: p.number,
    state: p.state,
    title: p.title,
    body: p.body,
    draft: p.draft,
    html_url: `https://github.com/${owner}/${repo}/pull/${p.number}`,
    head: { ref: p.head, sha: refs.get(`refs/heads/${p.head}`), label: `${owner}:${p.head}` },
    base: { ref: p.base, sha: refs.get(`refs/heads/${p.base}`), label: `${owner}:${p.base}` },
    requested_reviewers: p.requestedReviewers.map((login) => ({ login, type: 'User' })),
    requested_teams: p.requestedTeams.map((slug) => ({ slug })),
    labels: p.labels.map((name) => ({ name, color: 'ededed', default: false })),
    user: { login: 'github-actions[bot]', type: 'Bot' },
  });

  const fake: FakeGitHub = {
    host: /^(api\.github\.com|127\.0\.0\.1)$/,
    baseCommit: root,
    commits,
    refs,
    pulls: [],
    requests: [],
    permissions: { contents: 'write', pullRequests: 'write' },
    allowActionsToCreatePullRequests: true,
    draftsSupported: true,
    collaborators: new Set(),
    hideFromSearch: 0,
    pushAs(branch, files, message) {
      const parent = refs.get(`refs/heads/${branch}`) ?? root;
      const entries = new Map(trees.get(commits.get(parent)!.tree));
      for (const [p, c] of Object.entries(files)) entries.set(p, putBlob(Buffer.from(c)));
      const sha = putCommit(putTree(entries), [parent], message);
      refs.set(`refs/heads/${branch}`, sha);
      return sha;
    },
    fileOn(branch, path) {
      const sha = refs.get(`refs/heads/${branch}`);
      const blob = sha ? trees.get(commits.get(sha)!.tree)?.get(path) : undefined;
      return blob ? blobs.get(blob)?.toString('utf8') : undefined;
    },
    pathsAt: (sha) => [...(trees.get(commits.get(sha)?.tree ?? '')?.keys() ?? [])],
    calls: (method, path) => fake.requests.filter((r) => r.method === method && path.test(r.path)),
    handle(req, res, raw) {
      const url = new URL(req.url ?? '/', 'https://api.github.com');
      const path = decodeURIComponent(url.pathname);
      let body: unknown;
      try {
        body = raw.length ? JSON.parse(raw.toString()) : undefined;
      } catch {
        return error(res, 400, 'Problems parsing JSON', `${DOCS}`);
      }
      fake.requests.push({
        method: req.method ?? '',
        path,
        query: url.searchParams,
        body,
        headers: req.headers,
      });
      if (!req.headers['user-agent'])
        return error(
          res,
          403,
          'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.',
          DOCS,
        );
      if (req.headers.authorization !== `Bearer ${options.token}`)
        return error(res, 401, 'Bad credentials', DOCS);
      const prefix = `/repos/${owner}/${repo}`;
      if (!path.startsWith(prefix + '/')) return error(res, 404, 'Not Found', DOCS);
      return route(req, res, path.slice(prefix.length), url.searchParams, (body ?? {}) as RequestBody);
    },
  };

  function error(
    res: ServerResponse,
    status: number,
    message: string,
    docs: string,
    errors?: unknown[],
  ): void {
    sendJson(
      res,
      status,
      { message, ...(errors ? { errors } : {}), documentation_url: docs, status: String(status) },
      { 'x-github-request-id': `F00D:${fake.requests.length}`, 'x-ratelimit-remaining': '4999' },
    );
  }
  function validation(res: ServerResponse, docs: string, errors: unknown[]): void {
    error(res, 422, 'Validation Failed', docs, errors);
  }
  /** A write the job's token may not do: 403 "Resource not accessible by integration". */
  function refused(res: ServerResponse, scope: 'contents' | 'pullRequests', docs: string): boolean {
    if (fake.permissions[scope] === 'write') return false;
    error(res, 403, 'Resource not accessible by integration', docs);
    return true;
  }

  function route(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query: URLSearchParams,
    body: RequestBody,
  ): void {
    const method = req.method ?? '';
    let m: RegExpExecArray | null;
    const docs = {
      refs: `${DOCS}/git/refs`,
      commits: `${DOCS}/git/commits`,
      blobs: `${DOCS}/git/blobs#create-a-blob`,
      trees: `${DOCS}/git/trees#create-a-tree`,
      pulls: `${DOCS}/pulls/pulls`,
      reviewers: `${DOCS}/pulls/review-requests#request-reviewers-for-a-pull-request`,
      labels: `${DOCS}/issues/labels#add-labels-to-an-issue`,
    };

    // A token without contents: read gets 404 "Resource not accessible by integration" on reads.
    if (method === 'GET' && path.startsWith('/git/') && fake.permissions.contents === 'none')
      return error(res, 404, 'Resource not accessible by integration', `${docs.refs}#get-a-reference`);
    if (method === 'GET' && (m = /^\/git\/ref\/(heads\/.+)$/.exec(path))) {
      const sha = refs.get(`refs/${m[1]}`);
      if (!sha) return error(res, 404, 'Not Found', `${docs.refs}#get-a-reference`);
      return sendJson(res, 200, { ref: `refs/${m[1]}`, object: { sha, type: 'commit' } });
    }
    if (method === 'GET' && (m = /^\/git\/commits\/([0-9a-f]{40})$/.exec(path))) {
      const c = commits.get(m[1]!);
      if (!c) return error(res, 404, 'Not Found', `${docs.commits}#get-a-commit-object`);
      return sendJson(res, 200, {
        sha: c.sha,
        tree: { sha: c.tree },
        parents: c.parents.map((sha) => ({ sha })),
        message: c.message,
      });
    }
    if (method === 'POST' && path === '/git/blobs') {
      if (refused(res, 'contents', docs.blobs)) return;
      if (body.encoding !== 'base64' || typeof body.content !== 'string')
        return validation(res, docs.blobs, [{ resource: 'Blob', code: 'invalid', field: 'content' }]);
      const sha = putBlob(Buffer.from(body.content, 'base64'));
      return sendJson(res, 201, {
        sha,
        url: `https://${req.headers.host}/repos/${owner}/${repo}/git/blobs/${sha}`,
      });
    }
    if (method === 'POST' && path === '/git/trees') {
      if (refused(res, 'contents', docs.trees)) return;
      const base = body.base_tree ? trees.get(body.base_tree) : new Map<string, string>();
      if (!base) return error(res, 422, 'base_tree is not a valid tree oid', docs.trees);
      const entries = new Map(base);
      for (const e of body.tree ?? []) {
        if (e.type !== 'blob' || !/^100(644|755)$/.test(e.mode) || !blobs.has(e.sha))
          return error(res, 422, 'tree.sha is not a valid blob', docs.trees);
        entries.set(e.path, e.sha);
      }
      return sendJson(res, 201, { sha: putTree(entries), truncated: false });
    }
    if (method === 'POST' && path === '/git/commits') {
      if (refused(res, 'contents', `${docs.commits}#create-a-commit`)) return;
      const tree = String(body.tree ?? '');
      const parents = body.parents ?? [];
      if (!trees.has(tree))
        return error(res, 422, 'Tree SHA does not exist', `${docs.commits}#create-a-commit`);
      if (!parents.every((p) => commits.has(p)))
        return error(
          res,
          422,
          'Parent SHA does not exist or is not a commit object',
          `${docs.commits}#create-a-commit`,
        );
      const sha = putCommit(tree, parents, String(body.message ?? ''));
      return sendJson(res, 201, { sha, tree: { sha: tree }, parents: parents.map((p) => ({ sha: p })) });
    }
    if (method === 'POST' && path === '/git/refs') {
      if (refused(res, 'contents', `${docs.refs}#create-a-reference`)) return;
      fake.beforeRefUpdate?.();
      const ref = String(body.ref ?? '');
      const sha = String(body.sha ?? '');
      if (refs.has(ref))
        return error(res, 422, 'Reference already exists', `${docs.refs}#create-a-reference`);
      if (!commits.has(sha))
        return error(res, 422, 'Object does not exist', `${docs.refs}#create-a-reference`);
      refs.set(ref, sha);
      return sendJson(res, 201, { ref, object: { sha, type: 'commit' } });
    }
    if (method === 'PATCH' && (m = /^\/git\/refs\/(heads\/.+)$/.exec(path))) {
      if (refused(res, 'contents', `${docs.refs}#update-a-reference`)) return;
      fake.beforeRefUpdate?.();
      const ref = `refs/${m[1]}`;
      const old = refs.get(ref);
      if (!old) return error(res, 422, 'Reference does not exist', `${docs.refs}#update-a-reference`);
      const sha = String(body.sha ?? '');
      if (!commits.has(sha))
        return error(res, 422, 'Object does not exist', `${docs.refs}#update-a-reference`);
      if (!body.force && !isAncestor(old, sha))
        return error(res, 422, 'Update is not a fast forward', `${docs.refs}#update-a-reference`);
      refs.set(ref, sha);
      return sendJson(res, 200, { ref, object: { sha, type: 'commit' } });
    }
    if (method === 'GET' && path === '/pulls') {
      const head = query.get('head');
      const base = query.get('base');
      const state = query.get('state') ?? 'open';
      let found = fake.pulls.filter(
        (p) =>
          (state === 'all' || p.state === state) &&
          (!head || `${owner}:${p.head}` === head) &&
          (!base || p.base === base),
      );
      if (fake.hideFromSearch > 0) {
        fake.hideFromSearch--;
        found = [];
      }
      return sendJson(
        res,
        200,
        found.map((p) => pullJson(req, p)),
      );
    }
    if (method === 'POST' && path === '/pulls') {
      if (refused(res, 'pullRequests', `${docs.pulls}#create-a-pull-request`)) return;
      if (!fake.allowActionsToCreatePullRequests)
        return error(
          res,
          403,
          'GitHub Actions is not permitted to create or approve pull requests.',
          `${docs.pulls}#create-a-pull-request`,
        );
      const head = String(body.head ?? '');
      const base = String(body.base ?? '');
      if (!refs.has(`refs/heads/${head}`))
        return validation(res, `${docs.pulls}#create-a-pull-request`, [
          { resource: 'PullRequest', field: 'head', code: 'invalid' },
        ]);
      if (!refs.has(`refs/heads/${base}`))
        return validation(res, `${docs.pulls}#create-a-pull-request`, [
          { resource: 'PullRequest', field: 'base', code: 'invalid' },
        ]);
      if (fake.pulls.some((p) => p.state === 'open' && p.head === head && p.base === base))
        return validation(res, `${docs.pulls}#create-a-pull-request`, [
          {
            resource: 'PullRequest',
            code: 'custom',
            message: `A pull request already exists for ${owner}:${head}.`,
          },
        ]);
      if (body.draft && !fake.draftsSupported)
        return validation(res, `${docs.pulls}#create-a-pull-request`, [
          {
            resource: 'PullRequest',
            code: 'custom',
            message: 'Draft pull requests are not supported in this repository.',
          },
        ]);
      if (String(body.body ?? '').length > 65536)
        return validation(res, `${docs.pulls}#create-a-pull-request`, [
          {
            resource: 'Issue',
            code: 'custom',
            field: 'body',
            message: 'body is too long (maximum is 65536 characters)',
          },
        ]);
      const pull: FakePull = {
        number: nextNumber++,
        state: 'open',
        head,
        base,
        title: String(body.title ?? ''),
        body: String(body.body ?? ''),
        draft: body.draft === true,
        requestedReviewers: [],
        requestedTeams: [],
        labels: [],
      };
      fake.pulls.push(pull);
      return sendJson(res, 201, pullJson(req, pull));
    }
    const pullOf = (n: string | undefined) => fake.pulls.find((p) => p.number === Number(n));
    if (method === 'PATCH' && (m = /^\/pulls\/(\d+)$/.exec(path))) {
      if (refused(res, 'pullRequests', `${docs.pulls}#update-a-pull-request`)) return;
      const pull = pullOf(m[1]);
      if (!pull) return error(res, 404, 'Not Found', `${docs.pulls}#update-a-pull-request`);
      if (typeof body.body === 'string') {
        if (body.body.length > 65536)
          return validation(res, `${docs.pulls}#update-a-pull-request`, [
            {
              resource: 'Issue',
              code: 'custom',
              field: 'body',
              message: 'body is too long (maximum is 65536 characters)',
            },
          ]);
        pull.body = body.body;
      }
      if (typeof body.title === 'string') pull.title = body.title;
      return sendJson(res, 200, pullJson(req, pull));
    }
    if (method === 'POST' && (m = /^\/pulls\/(\d+)\/requested_reviewers$/.exec(path))) {
      if (refused(res, 'pullRequests', docs.reviewers)) return;
      const pull = pullOf(m[1]);
      if (!pull) return error(res, 404, 'Not Found', docs.reviewers);
      const users = body.reviewers ?? [];
      const teams = body.team_reviewers ?? [];
      const strangers = [...users, ...teams.map((t) => `${owner}/${t}`)].filter(
        (r) => !fake.collaborators.has(r),
      );
      if (strangers.length)
        return error(
          res,
          422,
          `Reviews may only be requested from collaborators. One or more of the users or teams you specified is not a collaborator of the ${owner}/${repo} repository.`,
          docs.reviewers,
        );
      pull.requestedReviewers.push(...users);
      pull.requestedTeams.push(...teams);
      return sendJson(res, 201, pullJson(req, pull));
    }
    if (method === 'POST' && (m = /^\/issues\/(\d+)\/labels$/.exec(path))) {
      if (refused(res, 'pullRequests', docs.labels)) return;
      const pull = pullOf(m[1]);
      if (!pull) return error(res, 404, 'Not Found', docs.labels);
      // A label the repository does not have yet is created (null description, colour ededed).
      for (const name of body.labels ?? []) if (!pull.labels.includes(name)) pull.labels.push(name);
      return sendJson(
        res,
        200,
        pull.labels.map((name) => ({ name, color: 'ededed', description: null })),
      );
    }
    return error(res, 404, 'Not Found', DOCS);
  }

  return fake;
}
