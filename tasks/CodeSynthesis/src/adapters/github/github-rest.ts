/**
 * A small client for the GitHub REST API over a fetch the caller gives (createFetch in net/network.ts,
 * so the runner's proxy and CA apply): JSON in and out, the headers GitHub asks for, and every answer
 * other than 2xx as a GitHubApiError carrying the status and GitHub's error body.
 * Wire format: https://docs.github.com/rest (X-GitHub-Api-Version 2022-11-28).
 *
 * Why not @octokit/rest: the publisher makes a dozen plain JSON calls; octokit adds ~150 KB to the
 * bundle, is published as an ES module only, and would still need this fetch for the proxy and CA.
 */

/** The API version the requests are written against. */
export const GITHUB_API_VERSION = '2022-11-28';

/** GitHub's error body: `{message, errors?, documentation_url, status}`. */
export interface GitHubErrorBody {
  message?: string;
  errors?: Array<{ resource?: string; code?: string; field?: string; message?: string }>;
  documentation_url?: string;
  status?: string;
}

/** GitHub answered with a status other than 2xx. Its text is the service's: for debug output only. */
export class GitHubApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: GitHubErrorBody | undefined,
    /** x-github-request-id, for support. */
    readonly requestId: string | undefined,
    /** x-ratelimit-remaining === '0' */
    readonly rateLimited: boolean,
  ) {
    super(`GitHub answered ${method} ${path} with HTTP ${status}`);
    this.name = 'GitHubApiError';
  }

  /** GitHub's message and the messages of its `errors[]`, joined: for matching, never for display. */
  get text(): string {
    const errors = (this.body?.errors ?? []).map((e) =>
      typeof e === 'string' ? e : (e?.message ?? e?.code ?? ''),
    );
    return [this.body?.message ?? '', ...errors].filter(Boolean).join(' | ');
  }
}

export interface GitHubRestOptions {
  /** GITHUB_API_URL: https://api.github.com, or https://<host>/api/v3 on GitHub Enterprise Server. */
  apiUrl: string;
  /** The workflow's token (GITHUB_TOKEN) or another token; already set secret. */
  token: string;
  fetch: typeof globalThis.fetch;
  /** GitHub refuses requests without a User-Agent. */
  userAgent: string;
}

export class GitHubRest {
  private readonly base: string;

  constructor(private readonly options: GitHubRestOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '');
  }

  /**
   * One call. `path` starts with '/' and has its parameters encoded already.
   * @throws GitHubApiError for any status other than 2xx; fetch's own error when there is no answer.
   */
  async request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.options.fetch(this.base + path, {
      method,
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${this.options.token}`,
        'x-github-api-version': GITHUB_API_VERSION,
        'user-agent': this.options.userAgent,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (response.status >= 200 && response.status < 300) return parsed as T;
    throw new GitHubApiError(
      method,
      path,
      response.status,
      typeof parsed === 'object' && parsed !== null
        ? (parsed as GitHubErrorBody)
        : { message: text.slice(0, 2000) },
      response.headers.get('x-github-request-id') ?? undefined,
      response.headers.get('x-ratelimit-remaining') === '0',
    );
  }
}

/** A path segment (owner, repository) or a branch name ('/' kept) encoded for a URL path. */
export function encodePath(value: string): string {
  return value.split('/').map(encodeURIComponent).join('/');
}
