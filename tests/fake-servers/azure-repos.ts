/**
 * Fake Azure Repos Git REST API, as azure-devops-node-api's GitApi calls it: the resource-location
 * OPTIONS call (OPTIONS {collection}/_apis/git), repositories, refs, items, pushes and pull requests,
 * with Azure DevOps' error bodies. It keeps a small Git history in memory (commits are file maps) so a
 * push really moves a branch, and records every request.
 * Wire format: https://learn.microsoft.com/rest/api/azure/devops/git/ (api-version 7.1/7.2).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../support/fake-azure';
import { sendJson } from '../support/fake-azure';

/** The Git resources the client discovers, with the route templates Azure DevOps returns for them. */
export const GIT_LOCATIONS = [
  {
    id: '225f7195-f9c7-4d14-ab28-a83f7ff77e1f',
    resourceName: 'repositories',
    routeTemplate: '{project}/_apis/{area}/{resource}/{repositoryId}',
    resourceVersion: 2,
  },
  {
    id: '2d874a60-a811-4f62-9c9f-963a6ea0a55b',
    resourceName: 'refs',
    routeTemplate: '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{*filter}',
    resourceVersion: 2,
  },
  {
    id: 'fb93c0db-47ed-4a31-8c20-47552878fb44',
    resourceName: 'items',
    routeTemplate: '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{*path}',
    resourceVersion: 1,
  },
  {
    id: 'ea98d07b-3c87-4971-8ede-a613694ffb55',
    resourceName: 'pushes',
    routeTemplate: '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{pushId}',
    resourceVersion: 3,
  },
  {
    id: '9946fd70-0d40-406e-b686-b4744cbbcc37',
    resourceName: 'pullRequests',
    routeTemplate: '{project}/_apis/{area}/repositories/{repositoryId}/{resource}/{pullRequestId}',
    resourceVersion: 2,
  },
];

export const ZERO_ID = '0'.repeat(40);

/** A commit: its whole tree as path (with a leading '/') -> UTF-8 content. */
export interface FakeCommit {
  commitId: string;
  parents: string[];
  comment: string;
  files: Map<string, string>;
}

export interface FakePullRequest {
  pullRequestId: number;
  status: 'active' | 'completed' | 'abandoned';
  sourceRefName: string;
  targetRefName: string;
  title: string;
  description: string;
  isDraft: boolean;
  reviewers: Array<{ id: string }>;
  labels: Array<{ name: string }>;
}

/** A push as the client sent it, and what the fake made of it. */
export interface FakePush {
  body: {
    refUpdates: Array<{ name: string; oldObjectId: string }>;
    commits: Array<{
      comment: string;
      changes: Array<{
        changeType: string | number;
        item: { path: string };
        newContent?: { content: string; contentType: string | number };
      }>;
    }>;
  };
  /** The commit it created. */
  commitId: string;
}

/** A Git permission the build identity can lack. */
export type GitPermission = 'GenericContribute' | 'CreateBranch' | 'PullRequestContribute';

export interface FakeAzureRepos extends Route {
  repository: { id: string; name: string };
  /** The commit the repository starts with (Build.SourceVersion). */
  baseCommit: string;
  commits: Map<string, FakeCommit>;
  /** refs/heads/<name> -> commit id. */
  refs: Map<string, string>;
  /** Successful pushes, in order. */
  pushes: FakePush[];
  pullRequests: FakePullRequest[];
  /** Every Git request: method, path and query, and the body parsed when JSON. */
  requests: Array<{
    method: string;
    path: string;
    query: URLSearchParams;
    body: unknown;
    apiVersion?: string;
  }>;
  /** Permissions the build identity lacks: requests needing one get 403 TF401027. */
  deny: Set<GitPermission>;
  /** When set, the next pull request creation fails with this status and message. */
  refusePullRequest?: { status: number; message: string; typeKey: string };
  /** Active pull requests are left out of this many next searches (another run racing this one). */
  hideFromSearch: number;
  /** Called as a push arrives, before it is applied (to move a branch under it). */
  beforePush?: () => void;
  /** The content of `path` ('/'-rooted) on branch `name`, or undefined. */
  fileOn(branch: string, path: string): string | undefined;
}

/** An Azure DevOps error body, as the service sends it. */
export function devOpsError(message: string, typeKey: string): Record<string, unknown> {
  return {
    $id: '1',
    innerException: null,
    message,
    typeName: `Microsoft.TeamFoundation.Git.Server.${typeKey}, Microsoft.TeamFoundation.Git.Server`,
    typeKey,
    errorCode: 0,
    eventId: 3000,
  };
}

/** The 403 Azure DevOps answers when the build identity lacks a Git permission. */
export function permissionError(permission: GitPermission): Record<string, unknown> {
  return devOpsError(
    `TF401027: You need the Git '${permission}' permission to perform this action. Details: identity 'Build\\1f2d3c4b-0000-4000-8000-00000000abcd', scope '${permission === 'CreateBranch' ? 'branch' : 'repository'}'.`,
    'GitNeedsPermissionException',
  );
}

export interface FakeAzureReposOptions {
  org: string;
  project: string;
  repository: { id: string; name: string };
  /** The bearer token accepted (System.AccessToken). */
  accessToken: string;
  /** The files of the base commit, '/'-rooted paths. */
  files: Record<string, string>;
  /** The branch holding the base commit (default main). */
  defaultBranch?: string;
  /** Requests that are not Git calls go here (e.g. the fake Azure DevOps for OIDC tokens). */
  next?: Route;
}

export function fakeAzureRepos(options: FakeAzureReposOptions): FakeAzureRepos {
  const projectId = 'a0b1c2d3-0000-4000-8000-00000000f00d';
  const origin = (req: IncomingMessage): string => `https://${req.headers.host ?? 'dev.azure.com'}`;
  const root = newCommit([], 'Initial commit', new Map(Object.entries(options.files)));
  const commits = new Map([[root.commitId, root]]);
  const refs = new Map([[`refs/heads/${options.defaultBranch ?? 'main'}`, root.commitId]]);
  let nextPr = 1;
  let nextPush = 1;

  const repoJson = (req: IncomingMessage) => {
    const base = `${origin(req)}/${options.org}/${encodeURIComponent(options.project)}`;
    return {
      id: options.repository.id,
      name: options.repository.name,
      url: `${base}/_apis/git/repositories/${options.repository.id}`,
      project: { id: projectId, name: options.project, state: 'wellFormed', visibility: 'private' },
      defaultBranch: `refs/heads/${options.defaultBranch ?? 'main'}`,
      size: 1024,
      remoteUrl: `${origin(req)}/${options.org}/${options.project}/_git/${options.repository.name}`,
      webUrl: `${base}/_git/${encodeURIComponent(options.repository.name)}`,
      isDisabled: false,
      isInMaintenance: false,
    };
  };
  const prJson = (req: IncomingMessage, pr: FakePullRequest) => ({
    repository: repoJson(req),
    pullRequestId: pr.pullRequestId,
    codeReviewId: pr.pullRequestId,
    status: pr.status,
    createdBy: { displayName: `${options.project} Build Service (${options.org})`, id: 'build-identity' },
    creationDate: '2026-11-05T10:00:00.000Z',
    title: pr.title,
    description: pr.description,
    sourceRefName: pr.sourceRefName,
    targetRefName: pr.targetRefName,
    mergeStatus: 'queued',
    isDraft: pr.isDraft,
    mergeId: 'c0ffee00-0000-4000-8000-000000000000',
    lastMergeSourceCommit: { commitId: refs.get(pr.sourceRefName) },
    reviewers: pr.reviewers.map((r) => ({ id: r.id, vote: 0, hasDeclined: false, isFlagged: false })),
    labels: pr.labels.map((l, i) => ({ id: `label-${i}`, name: l.name, active: true })),
    url: `${repoJson(req).url}/pullRequests/${pr.pullRequestId}`,
    supportsIterations: true,
  });

  const fake: FakeAzureRepos = {
    host: /^(dev\.azure\.com|127\.0\.0\.1)$/,
    repository: options.repository,
    baseCommit: root.commitId,
    commits,
    refs,
    pushes: [],
    pullRequests: [],
    requests: [],
    deny: new Set(),
    hideFromSearch: 0,
    fileOn(branch, path) {
      const id = refs.get(`refs/heads/${branch}`);
      return id ? commits.get(id)?.files.get(path) : undefined;
    },
    handle(req, res, body) {
      const url = new URL(req.url ?? '/', 'https://dev.azure.com');
      const path = decodeURIComponent(url.pathname);
      const gitPrefix = `/${options.org}/_apis/git`;
      const repoPrefix = new RegExp(
        `^/${options.org}/(?:${escape(options.project)}|${projectId})/_apis/git/repositories/([^/]+)(/.*)?$`,
        'i',
      );
      const isGit = path.toLowerCase() === gitPrefix.toLowerCase() || repoPrefix.test(path);
      if (!isGit) {
        if (options.next) return options.next.handle(req, res, body);
        sendJson(res, 404, { message: `fake Azure Repos has no ${req.method} ${url.pathname}` });
        return;
      }
      let parsed: unknown;
      try {
        parsed = body.length ? JSON.parse(body.toString()) : undefined;
      } catch {
        parsed = body.toString();
      }
      fake.requests.push({
        method: req.method ?? '',
        path,
        query: url.searchParams,
        body: parsed,
        apiVersion: /api-version=([\w.-]+)/.exec(String(req.headers.accept))?.[1],
      });
      if (req.headers.authorization !== `Bearer ${options.accessToken}`) {
        // Azure DevOps answers an unknown token with 401 and a sign-in page; the client reads the status.
        sendJson(res, 401, { message: 'TF400813: The user is not authorized to access this resource.' });
        return;
      }
      if (req.method === 'OPTIONS' && path.toLowerCase() === gitPrefix.toLowerCase()) {
        sendJson(res, 200, {
          count: GIT_LOCATIONS.length,
          value: GIT_LOCATIONS.map((l) => ({
            ...l,
            area: 'git',
            minVersion: '1.0',
            maxVersion: '7.2',
            releasedVersion: '7.1',
          })),
        });
        return;
      }
      const m = repoPrefix.exec(path)!;
      const repoKey = m[1]!;
      const rest = m[2] ?? '';
      if (
        repoKey !== options.repository.id &&
        repoKey.toLowerCase() !== options.repository.name.toLowerCase()
      ) {
        sendJson(
          res,
          404,
          devOpsError(
            `TF401019: The Git repository with name or identifier ${repoKey} does not exist or you do not have permissions for the operation you are attempting.`,
            'GitRepositoryNotFoundException',
          ),
        );
        return;
      }
      const route = `${req.method} ${rest.replace(/\/\d+$/, '/{id}').toLowerCase()}`;
      switch (route) {
        case 'GET ':
          sendJson(res, 200, repoJson(req));
          return;
        case 'GET /refs': {
          const filter = url.searchParams.get('filter') ?? '';
          const value = [...refs]
            .filter(([name]) => name.startsWith(`refs/${filter}`))
            .map(([name, objectId]) => ({
              name,
              objectId,
              creator: { displayName: 'Build Service' },
              url: `${repoJson(req).url}/refs?filter=${encodeURIComponent(name.slice(5))}`,
            }));
          sendJson(res, 200, { value, count: value.length });
          return;
        }
        case 'GET /items':
          return items(req, res, url);
        case 'POST /pushes':
          return push(req, res, parsed);
        case 'GET /pullrequests': {
          const q = url.searchParams;
          const status = q.get('searchCriteria.status');
          const hide = fake.hideFromSearch > 0;
          if (hide) fake.hideFromSearch--;
          const value = fake.pullRequests
            .filter((p) => !hide || p.status !== 'active')
            .filter(
              (p) =>
                !q.get('searchCriteria.sourceRefName') ||
                p.sourceRefName === q.get('searchCriteria.sourceRefName'),
            )
            .filter(
              (p) =>
                !q.get('searchCriteria.targetRefName') ||
                p.targetRefName === q.get('searchCriteria.targetRefName'),
            )
            .filter((p) => !status || status === 'all' || p.status === statusName(status))
            .map((p) => prJson(req, p));
          sendJson(res, 200, { value, count: value.length });
          return;
        }
        case 'POST /pullrequests':
          return createPr(req, res, parsed as Partial<FakePullRequest>);
        case 'PATCH /pullrequests/{id}': {
          const id = Number(/(\d+)$/.exec(rest)![1]);
          const pr = fake.pullRequests.find((p) => p.pullRequestId === id);
          if (!pr) {
            sendJson(
              res,
              404,
              devOpsError(
                `TF401180: The requested pull request was not found.`,
                'GitPullRequestNotFoundException',
              ),
            );
            return;
          }
          if (fake.deny.has('PullRequestContribute')) {
            sendJson(res, 403, permissionError('PullRequestContribute'));
            return;
          }
          const update = parsed as Partial<FakePullRequest>;
          if (tooLong(res, update.description)) return;
          Object.assign(pr, pick(update, ['title', 'description', 'isDraft']));
          sendJson(res, 200, prJson(req, pr));
          return;
        }
      }
      sendJson(res, 404, { message: `fake Azure Repos has no ${req.method} ${url.pathname}` });
    },
  };

  function items(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const q = url.searchParams;
    const version = q.get('versionDescriptor.version') ?? '';
    const type = (q.get('versionDescriptor.versionType') ?? 'branch').toLowerCase();
    const commitId = type === '2' || type === 'commit' ? version : refs.get(`refs/heads/${version}`);
    const commit = commitId ? commits.get(commitId) : undefined;
    if (!commit) {
      sendJson(
        res,
        404,
        devOpsError(
          `TF401175: The version descriptor <${type}: ${version}> could not be resolved to a version in the repository ${options.repository.name}`,
          'GitUnresolvableToCommitException',
        ),
      );
      return;
    }
    const scope = (q.get('scopePath') ?? '/').replace(/\/+$/, '');
    const recursion = (q.get('recursionLevel') ?? 'none').toLowerCase();
    if (recursion !== '120' && recursion !== 'full') {
      sendJson(res, 400, { message: `the fake serves recursionLevel Full only, not ${recursion}` });
      return;
    }
    const files = [...commit.files.keys()].filter((p) => p.startsWith(`${scope}/`));
    if (scope && !files.length && !commit.files.has(scope)) {
      sendJson(
        res,
        404,
        devOpsError(
          `TF401174: The item '${scope}' could not be found in the repository '${options.repository.name}' at the version specified by '<Commit: ${commit.commitId}>' (resolved to commit '${commit.commitId}').`,
          'GitItemNotFoundException',
        ),
      );
      return;
    }
    const folders = new Set<string>([scope || '/']);
    for (const f of files) {
      const parts = f.split('/');
      for (let i = 2; i < parts.length; i++) {
        const folder = parts.slice(0, i).join('/');
        if (folder.length > scope.length) folders.add(folder);
      }
    }
    const value = [
      ...[...folders].map((p) => ({
        objectId: sha1(`tree ${p}`),
        gitObjectType: 'tree',
        commitId: commit.commitId,
        path: p,
        isFolder: true,
      })),
      ...files.map((p) => ({
        objectId: sha1(commit.files.get(p)!),
        gitObjectType: 'blob',
        commitId: commit.commitId,
        path: p,
      })),
    ].map((i) => ({ ...i, url: `${repoJson(req).url}/items?path=${encodeURIComponent(i.path)}` }));
    sendJson(res, 200, { count: value.length, value });
  }

  function push(req: IncomingMessage, res: ServerResponse, parsed: unknown): void {
    fake.beforePush?.();
    const body = parsed as FakePush['body'];
    const update = body?.refUpdates?.[0];
    if (
      !update ||
      body.refUpdates.length !== 1 ||
      !body.commits?.length ||
      !update.name.startsWith('refs/heads/')
    ) {
      sendJson(
        res,
        400,
        devOpsError('The push must update one branch and carry commits.', 'InvalidArgumentValueException'),
      );
      return;
    }
    const current = refs.get(update.name);
    if (fake.deny.has('GenericContribute')) {
      sendJson(res, 403, permissionError('GenericContribute'));
      return;
    }
    if (!current && fake.deny.has('CreateBranch')) {
      sendJson(res, 403, permissionError('CreateBranch'));
      return;
    }
    if (!current && update.oldObjectId !== ZERO_ID && !commits.has(update.oldObjectId)) {
      sendJson(
        res,
        400,
        devOpsError(
          `The object '${update.oldObjectId}' does not exist in repository '${options.repository.name}'.`,
          'GitObjectNotFoundException',
        ),
      );
      return;
    }
    if (current && update.oldObjectId !== current) {
      sendJson(
        res,
        409,
        devOpsError(
          `TF401028: The reference '${update.name}' has already been updated by another client, so you cannot update it. Please try again.`,
          'GitReferenceStaleException',
        ),
      );
      return;
    }
    let parent = update.oldObjectId === ZERO_ID ? undefined : commits.get(update.oldObjectId)!;
    const created: FakeCommit[] = [];
    for (const c of body.commits) {
      const files = new Map(parent?.files ?? []);
      for (const change of c.changes ?? []) {
        const kind = changeKind(change.changeType);
        const path = change.item?.path ?? '';
        if (!path.startsWith('/') || !change.newContent || !kind) {
          sendJson(
            res,
            400,
            devOpsError(
              `The change to '${path}' is not an add or edit with content.`,
              'InvalidArgumentValueException',
            ),
          );
          return;
        }
        if (kind === 'add' && files.has(path)) {
          sendJson(
            res,
            400,
            devOpsError(
              `TF402455: The path '${path}' specified in the add operation already exists. Please specify a new path.`,
              'GitItemAlreadyExistsException',
            ),
          );
          return;
        }
        if (kind === 'edit' && !files.has(path)) {
          sendJson(
            res,
            400,
            devOpsError(
              `TF401174: The item '${path}' could not be found in the repository to edit.`,
              'GitItemNotFoundException',
            ),
          );
          return;
        }
        const type = String(change.newContent.contentType).toLowerCase();
        const content =
          type === '1' || type === 'base64encoded'
            ? Buffer.from(change.newContent.content, 'base64').toString('utf8')
            : change.newContent.content;
        files.set(path, content);
      }
      parent = newCommit(parent ? [parent.commitId] : [], c.comment, files);
      commits.set(parent.commitId, parent);
      created.push(parent);
    }
    refs.set(update.name, parent!.commitId);
    fake.pushes.push({ body, commitId: parent!.commitId });
    const pushId = nextPush++;
    sendJson(res, 201, {
      commits: created.map((c) => ({
        commitId: c.commitId,
        comment: c.comment,
        author: { name: 'Build Service', date: '2026-11-05T10:00:00Z' },
        url: `${repoJson(req).url}/commits/${c.commitId}`,
      })),
      refUpdates: [
        {
          repositoryId: options.repository.id,
          name: update.name,
          oldObjectId: update.oldObjectId,
          newObjectId: parent!.commitId,
        },
      ],
      repository: repoJson(req),
      pushedBy: { displayName: `${options.project} Build Service (${options.org})`, id: 'build-identity' },
      pushId,
      date: '2026-11-05T10:00:00Z',
      url: `${repoJson(req).url}/pushes/${pushId}`,
    });
  }

  function createPr(req: IncomingMessage, res: ServerResponse, body: Partial<FakePullRequest>): void {
    if (fake.deny.has('PullRequestContribute')) {
      sendJson(res, 403, permissionError('PullRequestContribute'));
      return;
    }
    if (fake.refusePullRequest) {
      const { status, message, typeKey } = fake.refusePullRequest;
      delete fake.refusePullRequest;
      sendJson(res, status, devOpsError(message, typeKey));
      return;
    }
    if (
      !body?.sourceRefName ||
      !refs.has(body.sourceRefName) ||
      !body.targetRefName ||
      !refs.has(body.targetRefName)
    ) {
      sendJson(
        res,
        400,
        devOpsError(
          'TF401398: The pull request cannot be activated because the source and/or the target branch no longer exists, or the requested refs are not branches',
          'GitPullRequestCannotBeActivated',
        ),
      );
      return;
    }
    if (!body.title) {
      sendJson(res, 400, devOpsError('The pull request needs a title.', 'InvalidArgumentValueException'));
      return;
    }
    if (tooLong(res, body.description)) return;
    if (
      fake.pullRequests.some(
        (p) =>
          p.status === 'active' &&
          p.sourceRefName === body.sourceRefName &&
          p.targetRefName === body.targetRefName,
      )
    ) {
      sendJson(
        res,
        409,
        devOpsError(
          'TF401179: An active pull request for the source and target branch already exists.',
          'GitPullRequestExistsException',
        ),
      );
      return;
    }
    const pr: FakePullRequest = {
      pullRequestId: nextPr++,
      status: 'active',
      sourceRefName: body.sourceRefName,
      targetRefName: body.targetRefName,
      title: body.title,
      description: body.description ?? '',
      isDraft: body.isDraft === true,
      reviewers: (body.reviewers ?? []).map((r) => ({ id: r.id })),
      labels: (body.labels ?? []).map((l) => ({ name: l.name })),
    };
    fake.pullRequests.push(pr);
    sendJson(res, 201, prJson(req, pr));
  }

  return fake;
}

/** Azure DevOps refuses a description over 4,000 characters. */
function tooLong(res: ServerResponse, description: string | undefined): boolean {
  if (description === undefined || description.length <= 4000) return false;
  sendJson(
    res,
    400,
    devOpsError(
      `The description of a pull request cannot be longer than 4000 characters (got ${description.length}).`,
      'InvalidArgumentValueException',
    ),
  );
  return true;
}

function newCommit(parents: string[], comment: string, files: Map<string, string>): FakeCommit {
  const tree = [...files]
    .sort()
    .map(([p, c]) => `${p}\0${sha1(c)}`)
    .join('\n');
  return { commitId: sha1(`${parents.join(',')}\n${comment}\n${tree}`), parents, comment, files };
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** VersionControlChangeType as a name or its number (the client sends numbers, the docs show names). */
function changeKind(value: string | number): 'add' | 'edit' | undefined {
  const v = String(value).toLowerCase();
  return v === '1' || v === 'add' ? 'add' : v === '2' || v === 'edit' ? 'edit' : undefined;
}

/** PullRequestStatus as a name or its number. */
function statusName(value: string): string {
  return (
    ({ '1': 'active', '2': 'abandoned', '3': 'completed' } as Record<string, string>)[value] ??
    value.toLowerCase()
  );
}

function pick<T extends object>(value: T, keys: Array<keyof T>): Partial<T> {
  return Object.fromEntries(
    keys.filter((k) => value?.[k] !== undefined).map((k) => [k, value[k]]),
  ) as Partial<T>;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
