/**
 * What a pull request on GitHub takes from the run: the runner's variables as the review stage's
 * BuildContext (no Azure DevOps fields, no provider check), the run's address, and the syntax of
 * repository names and GitHub reviewers, which the action's settings use instead of identity ids.
 */
import assert from 'node:assert/strict';
import {
  GITHUB_DESCRIPTION_LIMIT,
  parseGitHubReviewers,
  parseRepository,
  readGitHubReviewContext,
} from '../../tasks/CodeSynthesis/src/adapters/github/github-review';
import { InputError } from '../../tasks/CodeSynthesis/src/core/errors';
import { ReviewError } from '../../tasks/CodeSynthesis/src/core/review';
import { parseSettings } from '../../tasks/CodeSynthesis/src/core/settings';

const RUNNER: Record<string, string> = {
  GITHUB_REPOSITORY: 'contoso/web',
  GITHUB_SHA: 'a'.repeat(40),
  GITHUB_REF: 'refs/heads/main',
  GITHUB_RUN_ID: '4242',
  GITHUB_SERVER_URL: 'https://github.example.com/',
  GITHUB_API_URL: 'https://github.example.com/api/v3',
};

describe('GitHub review context', () => {
  it("reads the runner's variables into the review stage's context, with the run's address", () => {
    const read = readGitHubReviewContext((n) => RUNNER[n], '/home/runner/work/web/web');
    assert.deepEqual(read, {
      context: {
        repositoryId: 'contoso/web',
        sourceVersion: 'a'.repeat(40),
        sourceBranch: 'refs/heads/main',
        sourcesDirectory: '/home/runner/work/web/web',
        buildId: '4242',
      },
      runUrl: 'https://github.example.com/contoso/web/actions/runs/4242',
      apiUrl: 'https://github.example.com/api/v3',
      serverUrl: 'https://github.example.com',
    });
  });

  it('defaults to github.com, and links nowhere without a run id', () => {
    const read = readGitHubReviewContext(
      (n) => ({ GITHUB_REPOSITORY: 'contoso/web', GITHUB_SHA: 'b'.repeat(40) })[n],
      '/w',
    );
    assert.equal(read.apiUrl, 'https://api.github.com');
    assert.equal(read.serverUrl, 'https://github.com');
    assert.equal(read.runUrl, undefined);
    assert.equal(read.context.sourceBranch, undefined);
  });

  it('names every missing variable, and refuses a repository that is not owner/name', () => {
    assert.throws(
      () => readGitHubReviewContext(() => undefined, '/w'),
      (e: unknown) =>
        e instanceof ReviewError &&
        /needs the runner's variables GITHUB_REPOSITORY, GITHUB_SHA, which are not set/.test(e.message),
    );
    assert.throws(
      () => readGitHubReviewContext((n) => ({ ...RUNNER, GITHUB_SHA: ' ' })[n], '/w'),
      /GITHUB_SHA, which/,
    );
    assert.throws(
      () => readGitHubReviewContext((n) => ({ ...RUNNER, GITHUB_REPOSITORY: 'a/b/c' })[n], '/w'),
      (e: unknown) => e instanceof ReviewError && e.subject === 'GITHUB_REPOSITORY',
    );
  });

  it("keeps to GitHub's 65,536-character limit on a description", () => {
    assert.deepEqual(GITHUB_DESCRIPTION_LIMIT, { chars: 65536, service: "GitHub's" });
  });
});

describe('GitHub names', () => {
  it('parseRepository takes owner/name and refuses anything else', () => {
    assert.deepEqual(parseRepository('contoso/web.site'), {
      owner: 'contoso',
      name: 'web.site',
      path: '/repos/contoso/web.site',
    });
    for (const bad of ['contoso', 'a/b/c', '../x', 'contoso/we b', ''])
      assert.throws(() => parseRepository(bad), ReviewError, bad);
  });

  it('parseGitHubReviewers takes logins and org/team, drops @ and duplicates, and lists every bad entry', () => {
    assert.deepEqual(parseGitHubReviewers('@octocat, contoso/platform\nOctoCat; hubot'), [
      'octocat',
      'contoso/platform',
      'hubot',
    ]);
    assert.deepEqual(parseGitHubReviewers(undefined), []);
    assert.throws(
      () => parseGitHubReviewers('ok, not a login, -bad, a/b/c'),
      (e: unknown) =>
        e instanceof InputError &&
        /"not a login", "-bad", "a\/b\/c" are not GitHub logins or teams/.test(e.message) &&
        e.subject === 'reviewers',
    );
  });

  it('settings read reviewers with the front door’s parser: GitHub logins in the action, identity ids otherwise', () => {
    const raw = {
      provider: 'offline',
      intent: 'A service.',
      outputDirectory: '/w/out',
      reviewMode: 'pullRequest',
      reviewers: '@octocat, contoso/platform',
    };
    const settings = parseSettings(raw, { parseReviewers: parseGitHubReviewers });
    assert.equal(settings.review.mode, 'pullRequest');
    assert.deepEqual(settings.review.mode === 'pullRequest' && settings.review.reviewers, [
      'octocat',
      'contoso/platform',
    ]);
    assert.throws(
      () => parseSettings(raw),
      (e: unknown) => e instanceof InputError && /are not identity ids/.test(e.message),
    );
  });
});
