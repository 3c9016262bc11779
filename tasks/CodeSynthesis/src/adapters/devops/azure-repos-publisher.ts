/**
 * ReviewPublisher over Azure Repos Git, with azure-devops-node-api's GitApi and the job's access token:
 * one push with one commit on the review branch, then the pull request created or updated.
 * Every failure becomes a ReviewError naming the operation; missing Git permissions (TF401027) name the
 * permission, the build identity and where to grant it. Response bodies go to debug output only.
 */
import type { IGitApi } from 'azure-devops-node-api/GitApi';
import type { IRequestOptions } from 'azure-devops-node-api/interfaces/common/VsoBaseInterfaces';
import {
  GitVersionType,
  ItemContentType,
  PullRequestStatus,
  VersionControlChangeType,
  VersionControlRecursionType,
  type GitChange,
  type GitPullRequest,
} from 'azure-devops-node-api/interfaces/GitInterfaces';
import { CancelledError } from '../../core/errors';
import type { Logger } from '../../core/ports';
import {
  MAX_DESCRIPTION_CHARS,
  ReviewError,
  buildServiceIdentity,
  cut,
  organizationName,
  type ReviewPublisher,
  type ReviewRequest,
  type ReviewResult,
} from '../../core/review';
import { untilAborted } from '../net/abort';
import { describeNetworkFailure } from '../net/network-errors';
import { safeHost, snippet } from '../net/remote-text';
import type { AgentHost } from '../pipeline/agent-host';
import { jobTokenClient, systemAccessToken, webApiOptions } from './devops-client';

/** What a publisher talks to and as whom. */
export interface AzureReposPublisherOptions {
  /** The organization or collection URL (System.CollectionUri). */
  collectionUri: string;
  /** The project (System.TeamProject) when a request names none. */
  project: string;
  /** The job's access token (SystemVssConnection); already set secret. */
  accessToken: string;
  /** Proxy and TLS settings (webApiOptions). */
  requestOptions: IRequestOptions;
  /** Debug output: response bodies, through the untrusted channel. */
  log: Logger;
}

/** The Git permissions a publication needs, with their names in Project settings > Repositories > Security. */
export const GIT_PERMISSIONS: Readonly<Record<string, string>> = {
  GenericContribute: 'Contribute',
  CreateBranch: 'Create branch',
  PullRequestContribute: 'Contribute to pull requests',
  GenericRead: 'Read',
};

const ZERO_ID = '0'.repeat(40);

/** One call to Azure DevOps, for messages: what was being done, in words. */
interface Operation {
  doing: string;
  /** The project whose build identity makes the call. */
  project: string;
  /** The ref a 409 (TF401028) is about. */
  ref?: string;
}

/** The repository a publication goes to. */
interface Target {
  git: IGitApi;
  repositoryId: string;
  /** The repository's name, for messages. */
  name: string;
  project: string;
}

/** The shape of an azure-devops-node-api (typed-rest-client) error. */
interface RestError {
  statusCode?: number;
  message?: string;
  result?: unknown;
}

export class AzureReposPublisher implements ReviewPublisher {
  private git?: Promise<IGitApi>;

  constructor(private readonly options: AzureReposPublisherOptions) {}

  async publish(request: ReviewRequest, signal: AbortSignal): Promise<ReviewResult> {
    const project = request.project ?? this.options.project;
    const { repositoryId } = request;
    const git = await this.call({ doing: 'connect to Azure Repos', project }, () => this.gitApi(), signal);
    const repo = await this.call(
      { doing: `read repository '${repositoryId}'`, project },
      () => git.getRepository(repositoryId, project),
      signal,
    );
    if (!repo?.id) {
      throw new ReviewError(
        `Repository '${repositoryId}' was not found in project '${project}' of ${this.options.collectionUri}, or the build identity may not read it.`,
        'Build.Repository.ID',
        `Check that the pipeline builds an Azure Repos Git repository of this project, and that '${this.identity(project)}' has Read on it (Project settings > Repositories > Security).`,
      );
    }
    const target: Target = { git, repositoryId: repo.id, name: repo.name ?? repositoryId, project };
    const commitId = await this.push(target, request, signal);
    const { pr, created } = await this.openOrUpdate(target, request);
    const web =
      repo.webUrl ??
      `${this.options.collectionUri.replace(/\/+$/, '')}/${encodeURIComponent(project)}/_git/${encodeURIComponent(target.name)}`;
    const pullRequestUrl = `${web.replace(/\/+$/, '')}/pullrequest/${pr}`;
    this.options.log.untrusted(
      `${created ? 'Opened' : 'Updated'} pull request ${pr} from '${request.branch}' into '${request.targetBranch}': ${pullRequestUrl}`,
      'info',
    );
    return { pullRequestId: pr, pullRequestUrl, branch: request.branch, created, commitId };
  }

  /**
   * One push with one commit: on the branch head, or, for a new branch, on the base commit (the push
   * creates the branch: its old object id is the commit it starts from, see GitRefUpdate.oldObjectId in
   * https://learn.microsoft.com/rest/api/azure/devops/git/pushes/create). Files already at that commit
   * are edited, the others added. Returns the new commit's id.
   */
  private async push(target: Target, request: ReviewRequest, signal: AbortSignal): Promise<string> {
    const { git, repositoryId, project } = target;
    const ref = `refs/heads/${request.branch}`;
    const refs = await this.call(
      { doing: `look up branch '${request.branch}'`, project },
      () => git.getRefs(repositoryId, project, `heads/${request.branch}`),
      signal,
    );
    const head = (refs ?? []).find((r) => r.name === ref)?.objectId;
    const base = head ?? request.baseCommit;
    const present = await this.filesAt(target, base, request, signal);
    const changes: GitChange[] = request.files.map((f) => ({
      changeType: present.has(`/${f.path}`) ? VersionControlChangeType.Edit : VersionControlChangeType.Add,
      item: { path: `/${f.path}` },
      // Base64: the commit holds exactly the bytes the manifest hashed, whatever the text holds.
      newContent: {
        content: Buffer.from(f.content, 'utf8').toString('base64'),
        contentType: ItemContentType.Base64Encoded,
      },
    }));
    if (signal.aborted) throw new CancelledError();
    const push = await this.call(
      { doing: `push the generated files to branch '${request.branch}'`, project, ref },
      () =>
        git.createPush(
          {
            refUpdates: [{ name: ref, oldObjectId: base }],
            commits: [{ comment: request.commitMessage, changes }],
          },
          repositoryId,
          project,
        ),
    );
    const commitId =
      push?.refUpdates?.find((u) => u.name === ref)?.newObjectId ?? push?.commits?.at(-1)?.commitId;
    if (!commitId || commitId === ZERO_ID) {
      this.options.log.untrusted(`Push response: ${snippet(push)}`, 'debug');
      throw new ReviewError(
        `Azure DevOps answered the push to branch '${request.branch}' without a commit.`,
        'Azure Repos',
        'Run again; if it persists, enable system.debug to see the service response.',
      );
    }
    this.options.log.untrusted(
      `Pushed ${request.files.length} file(s) to '${request.branch}' of '${target.name}' as commit ${commitId.slice(0, 12)}${head ? '' : ` (new branch from ${base.slice(0, 12)})`}.`,
      'info',
    );
    return commitId;
  }

  /**
   * The active pull request from the branch into the target gets the new description; without one, a
   * pull request is created. Returns its id.
   */
  private async openOrUpdate(
    target: Target,
    request: ReviewRequest,
  ): Promise<{ pr: number; created: boolean }> {
    const { git, repositoryId, project } = target;
    const source = `refs/heads/${request.branch}`;
    const into = `refs/heads/${request.targetBranch}`;
    const description = cut(request.description, MAX_DESCRIPTION_CHARS);
    const open = await this.findOpen(target, source, into);
    if (open) return { pr: await this.update(target, open, description), created: false };
    let pr: GitPullRequest;
    try {
      pr = await this.call({ doing: `create the pull request from '${request.branch}'`, project }, () =>
        git.createPullRequest(
          {
            sourceRefName: source,
            targetRefName: into,
            title: cut(request.title, 400),
            description,
            isDraft: request.draft,
            reviewers: request.reviewers.map((id) => ({ id })),
            labels: [{ name: request.label }],
          },
          repositoryId,
          project,
        ),
      );
    } catch (err) {
      // TF401179: another run opened it between our search and our create. Update that one instead.
      const raced = /\bTF401179\b/.test(causeMessage(err))
        ? await this.findOpen(target, source, into)
        : undefined;
      if (!raced) throw err;
      return { pr: await this.update(target, raced, description), created: false };
    }
    if (typeof pr?.pullRequestId !== 'number') {
      this.options.log.untrusted(`Pull request response: ${snippet(pr)}`, 'debug');
      throw new ReviewError(
        `Azure DevOps answered the creation of the pull request from '${request.branch}' without its id.`,
        'Azure Repos',
        'Run again; if it persists, enable system.debug to see the service response.',
      );
    }
    return { pr: pr.pullRequestId, created: true };
  }

  /** GitApi for the collection, created on first use (azure-devops-node-api is loaded lazily). */
  private gitApi(): Promise<IGitApi> {
    this.git ??= import('azure-devops-node-api/GitApi').then(({ GitApi }) =>
      jobTokenClient(
        GitApi,
        this.options.collectionUri,
        this.options.accessToken,
        this.options.requestOptions,
      ),
    );
    return this.git;
  }

  /** The paths (with a leading '/') of the files under the request's folders at `commit`. */
  private async filesAt(
    { git, repositoryId, project }: Target,
    commit: string,
    request: ReviewRequest,
    signal: AbortSignal,
  ): Promise<Set<string>> {
    const scope = commonFolder(request.files.map((f) => f.path));
    const items = await this.call(
      { doing: `list the files under '/${scope}' at commit ${commit.slice(0, 12)}`, project },
      () =>
        git.getItems(
          repositoryId,
          project,
          `/${scope}`,
          VersionControlRecursionType.Full,
          undefined,
          undefined,
          undefined,
          undefined,
          { version: commit, versionType: GitVersionType.Commit },
        ),
      signal,
    );
    // A folder absent at that commit comes back as 404, which the client turns into null: no files.
    return new Set((items ?? []).filter((i) => !i.isFolder && i.path).map((i) => i.path!));
  }

  /** The id of the active pull request from `source` into `into`, if there is one. */
  private async findOpen(
    { git, repositoryId, project }: Target,
    source: string,
    into: string,
  ): Promise<number | undefined> {
    const open = await this.call({ doing: `find the open pull request from '${source}'`, project }, () =>
      git.getPullRequests(
        repositoryId,
        { sourceRefName: source, targetRefName: into, status: PullRequestStatus.Active },
        project,
      ),
    );
    return (open ?? []).map((p) => p.pullRequestId).find((id) => typeof id === 'number');
  }

  /** Give pull request `id` the new description; its title, state and reviewers stay as people left them. */
  private async update(
    { git, repositoryId, project }: Target,
    id: number,
    description: string,
  ): Promise<number> {
    await this.call({ doing: `update pull request ${id}`, project }, () =>
      git.updatePullRequest({ description }, repositoryId, id, project),
    );
    return id;
  }

  /** Run one call; turn its failure into a ReviewError. Before the push, `signal` cancels. */
  private async call<T>(operation: Operation, run: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return signal ? await untilAborted(run(), signal) : await run();
    } catch (err) {
      if (signal?.aborted) throw new CancelledError();
      throw this.explain(err, operation);
    }
  }

  private identity(project: string): string {
    return buildServiceIdentity(this.options.collectionUri, project);
  }

  /** One ReviewError for a failed call; the service's text goes to debug output only. */
  private explain(err: unknown, op: Operation): ReviewError {
    const rest = (err ?? {}) as RestError;
    const status = typeof rest.statusCode === 'number' ? rest.statusCode : undefined;
    const host = safeHost(this.options.collectionUri);
    if (status === undefined) {
      const net = describeNetworkFailure(err, `Azure DevOps (${host})`);
      if (net) return new ReviewError(net.message, net.subject, net.hint, { cause: err });
    }
    this.options.log.untrusted(
      `Azure DevOps answered ${status ? `HTTP ${status}` : 'with an error'} when asked to ${op.doing}: ${snippet(rest.result ?? rest.message)}`,
      'debug',
    );
    const text = causeMessage(err);
    const tf = /\b(TF\d{6})\b/.exec(text)?.[1];
    const where = `${status ? `HTTP ${status}` : 'no response'}${tf ? `, ${tf}` : ''}`;
    const project = op.project;
    if (tf === 'TF401027' || (status === 403 && /permission/i.test(text))) {
      const raw = /'([A-Za-z]+)' permission/.exec(text)?.[1];
      const name = raw ? (GIT_PERMISSIONS[raw] ?? raw) : 'the needed Git';
      return new ReviewError(
        `The build identity may not ${op.doing}: it lacks the Git permission '${name}'${raw ? ` (${raw})` : ''} (${where}).`,
        'Azure Repos permissions',
        `In Project settings > Repositories > Security (all repositories, or the repository itself), set '${name}' to Allow for '${this.identity(project)}'; if the pipeline's job authorization scope is the project collection, grant it to 'Project Collection Build Service (${organizationName(this.options.collectionUri)})' instead.`,
        { cause: err },
      );
    }
    if (status === 401)
      return new ReviewError(
        `Azure DevOps rejected the job's access token when asked to ${op.doing} (${where}).`,
        'System.AccessToken',
        'Run the task in an Azure Pipelines job; the agent passes the job token on the SystemVssConnection endpoint. Check that the pipeline may access the repository (Limit job authorization scope, protected resources).',
        { cause: err },
      );
    if (status === 409 && op.ref && (tf === 'TF401028' || /already been updated/i.test(text)))
      return new ReviewError(
        `Branch '${op.ref.replace(/^refs\/heads\//, '')}' changed while the task was pushing to it (${where}); nothing was pushed.`,
        'reviewBranch',
        'Run again: the next push goes on top of the new head.',
        { cause: err },
      );
    return new ReviewError(
      `Azure DevOps refused to ${op.doing} (${where}).`,
      'Azure Repos',
      status && status >= 500
        ? 'Azure DevOps had a problem; run again. If it persists, enable system.debug to see the service response.'
        : "Check the repository, the branches and the build identity's permissions; enable system.debug to see the service response.",
      { cause: err },
    );
  }
}

/**
 * The publisher for the pipeline's own organization and project, as the job's build identity:
 * System.CollectionUri, System.TeamProject, the SystemVssConnection token (or System.AccessToken),
 * the agent's proxy and TLS settings.
 * @throws ReviewError naming the missing variables.
 */
export function createAzureReposPublisher(host: AgentHost): AzureReposPublisher {
  const collectionUri =
    host.getVariable('System.CollectionUri') ?? host.getVariable('System.TeamFoundationCollectionUri');
  const project = host.getVariable('System.TeamProject');
  const accessToken = systemAccessToken(host) ?? host.getVariable('System.AccessToken');
  const missing = [
    ...(collectionUri ? [] : ['System.CollectionUri']),
    ...(project ? [] : ['System.TeamProject']),
    ...(accessToken ? [] : ['System.AccessToken']),
  ];
  if (missing.length)
    throw new ReviewError(
      `Opening a pull request needs the pipeline variables ${missing.join(', ')}, which are not set.`,
      'reviewMode',
      'Run the task in an Azure Pipelines job: the agent sets them and passes the job token on the SystemVssConnection endpoint.',
    );
  host.setSecret(accessToken!);
  return new AzureReposPublisher({
    collectionUri: collectionUri!,
    project: project!,
    accessToken: accessToken!,
    requestOptions: webApiOptions(host.proxy(), host.certificates()),
    log: host,
  });
}

/** The deepest folder holding every path ('' for the repository root). */
export function commonFolder(paths: readonly string[]): string {
  const folders = paths.map((p) => p.split('/').slice(0, -1));
  const first = folders[0] ?? [];
  let n = first.length;
  for (const f of folders) {
    let i = 0;
    while (i < n && f[i] === first[i]) i++;
    n = i;
  }
  return first.slice(0, n).join('/');
}

/** The messages of the error and its causes, for matching TF codes (never shown to the user). */
function causeMessage(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, i = 0; e && i < 4; e = (e as { cause?: unknown }).cause, i++) {
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string') parts.push(message);
  }
  return parts.join(' | ');
}
