import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { InputError } from '../../tasks/CodeSynthesis/src/core/errors';
import { parseIntent } from '../../tasks/CodeSynthesis/src/core/intent';
import {
  MAX_DESCRIPTION_CHARS,
  ReviewError,
  branchNameProblem,
  buildReviewDescription,
  buildServiceIdentity,
  buildSummaryUrl,
  checkRepositoryProvider,
  cut,
  defaultReviewBranch,
  organizationName,
  parseReviewSettings,
  parseReviewers,
  readBuildContext,
  repositoryFiles,
  repositoryPath,
  resolveBranches,
  reviewCommitMessage,
  reviewTitle,
  sanitizeBranchName,
} from '../../tasks/CodeSynthesis/src/core/review';
import { manyFiles, sampleManifest } from '../support/manifest';

const CARD = parseIntent(
  'service:\n  name: weather\n  language: python\n  framework: flask\n  endpoint: /weather\n  description: Weather\n',
);
const TEXT = parseIntent('A small service that returns the weather for a city.');
const GUID_A = 'd6245f20-2af8-44f4-9451-8107cb2767db';
const GUID_B = '0f0e0d0c-0b0a-4909-8807-060504030201';

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  return assert.fail('expected an error');
}

describe('review: settings', () => {
  it('is off unless reviewMode is pullRequest (any case)', () => {
    assert.deepEqual(parseReviewSettings({}), { mode: 'none' });
    assert.deepEqual(parseReviewSettings({ reviewMode: ' none ', reviewBranch: 'a..b' }), { mode: 'none' });
    assert.deepEqual(parseReviewSettings({ reviewMode: 'PULLREQUEST' }), {
      mode: 'pullRequest',
      draft: false,
      reviewers: [],
    });
  });

  it('reads branch names without refs/heads/, the draft flag and the reviewers', () => {
    assert.deepEqual(
      parseReviewSettings({
        reviewMode: 'pullRequest',
        reviewBranch: 'refs/heads/review/weather',
        reviewTargetBranch: 'release/2.0',
        reviewDraft: 'True',
        reviewers: `${GUID_A}\n${GUID_B}, ${GUID_A.toUpperCase()}`,
      }),
      {
        mode: 'pullRequest',
        branch: 'review/weather',
        targetBranch: 'release/2.0',
        draft: true,
        reviewers: [GUID_A.toUpperCase(), GUID_B],
      },
    );
  });

  it('names the input at fault', () => {
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ reviewMode: 'github' }, 'reviewMode', /Use one of: none, pullRequest/],
      [{ reviewMode: 'pullRequest', reviewDraft: 'yes' }, 'reviewDraft', /Use true or false/],
      [{ reviewMode: 'pullRequest', reviewBranch: 'a..b' }, 'reviewBranch', /contains '\.\.'/],
      [{ reviewMode: 'pullRequest', reviewTargetBranch: 'has space' }, 'reviewTargetBranch', /a space/],
      [{ reviewMode: 'pullRequest', reviewers: 'alice@contoso.com' }, 'reviewers', /identity id/],
    ];
    for (const [raw, input, pattern] of cases) {
      const err = thrown(() => parseReviewSettings(raw));
      assert.ok(err instanceof InputError, input);
      assert.equal(err.subject, input);
      assert.match(err.describe(), pattern, input);
    }
  });

  it('lists every reviewer that is not an identity id, escaped', () => {
    const err = thrown(() => parseReviewers(`${GUID_A}; bob; carol@x.com\n`)) as InputError;
    assert.match(err.message, /"bob", "carol@x\.com" are not identity ids/);
    assert.deepEqual(parseReviewers(undefined), []);
  });
});

describe('review: repository and build', () => {
  it('accepts Azure Repos Git only, before anything else is read', () => {
    checkRepositoryProvider('TfsGit');
    checkRepositoryProvider('tfsgit');
    for (const provider of ['GitHub', 'Bitbucket', 'TfsVersionControl', 'Git']) {
      const err = thrown(() => checkRepositoryProvider(provider));
      assert.ok(err instanceof ReviewError);
      assert.equal(err.subject, 'reviewMode');
      assert.match(err.message, new RegExp(`Azure Repos Git only.*'${provider}'`));
    }
    assert.match(thrown(() => checkRepositoryProvider(undefined)).message, /is unknown/);
    // A GitHub build fails on the provider even when the other variables are missing too.
    const vars: Record<string, string> = { 'Build.Repository.Provider': 'GitHub' };
    assert.match(thrown(() => readBuildContext((n) => vars[n])).message, /'GitHub'/);
  });

  it('reads the build variables, naming every missing one', () => {
    const vars: Record<string, string> = {
      'Build.Repository.Provider': 'TfsGit',
      'Build.Repository.ID': 'repo-id',
      'Build.SourceVersion': 'abc123',
      'Build.SourceBranch': 'refs/heads/main',
      'Build.SourcesDirectory': '/agent/_work/1/s',
      'System.CollectionUri': 'https://dev.azure.com/contoso/',
      'System.TeamProject': 'web',
      'Build.BuildId': '42',
    };
    assert.deepEqual(
      readBuildContext((n) => vars[n]),
      {
        repositoryId: 'repo-id',
        sourceVersion: 'abc123',
        sourceBranch: 'refs/heads/main',
        sourcesDirectory: '/agent/_work/1/s',
        collectionUri: 'https://dev.azure.com/contoso/',
        project: 'web',
        buildId: '42',
      },
    );
    const partial = { 'Build.Repository.Provider': 'TfsGit', 'System.TeamProject': 'web' } as Record<
      string,
      string
    >;
    assert.match(
      thrown(() => readBuildContext((n) => partial[n])).message,
      /Build\.Repository\.ID, Build\.SourceVersion, Build\.SourcesDirectory, System\.CollectionUri, which are not set/,
    );
  });

  it('names the build identity and organization from the collection URI', () => {
    assert.equal(
      buildServiceIdentity('https://dev.azure.com/contoso/', 'web'),
      'web Build Service (contoso)',
    );
    assert.equal(organizationName('https://contoso.visualstudio.com/'), 'contoso');
    assert.equal(organizationName('https://tfs.corp.local/tfs/DefaultCollection/'), 'DefaultCollection');
    assert.equal(organizationName('not a url'), '<organization>');
  });

  it('links to the build summary', () => {
    assert.equal(
      buildSummaryUrl('https://dev.azure.com/contoso/', 'My Web', '42'),
      'https://dev.azure.com/contoso/My%20Web/_build/results?buildId=42&view=ms.vss-build-web.run-extensions-tab',
    );
  });
});

describe('review: branches', () => {
  it('defaults to synthesis/<service name>, or synthesis/intent-<8 hex of the sha256> for free text', () => {
    assert.equal(defaultReviewBranch(CARD), 'synthesis/weather');
    const hash = createHash('sha256').update(TEXT.text, 'utf8').digest('hex').slice(0, 8);
    assert.equal(defaultReviewBranch(TEXT), `synthesis/intent-${hash}`);
  });

  it('accepts valid git branch names and says why others are not', () => {
    for (const ok of ['main', 'synthesis/weather', 'release/2.0', 'feature/a_b-c', 'users/Ünïcode']) {
      assert.equal(branchNameProblem(ok), undefined, ok);
    }
    const bad: Array<[string, RegExp]> = [
      ['', /empty/],
      ['a b', /space/],
      ['a~b', /~/],
      ['a^b', /\^/],
      ['a:b', /:/],
      ['a?b', /\?/],
      ['a*b', /\*/],
      ['a[b', /\[/],
      ['a\\b', /\\/],
      ['a\u0001b', /control/],
      ['a..b', /'\.\.'/],
      ['a@{b', /@\{/],
      ['@', /@/],
      ['/a', /starts or ends with '\/'/],
      ['a/', /starts or ends with '\/'/],
      ['a//b', /empty part/],
      ['a.', /ends with '\.'/],
      ['a/.hidden', /'\.hidden' starts with '\.'/],
      ['a/b.lock', /'b\.lock'/],
      ['x'.repeat(251), /longer than 250/],
    ];
    for (const [name, why] of bad)
      assert.match(branchNameProblem(name) ?? 'valid', why, JSON.stringify(name));
  });

  it('sanitises any text into a valid branch name', () => {
    assert.equal(sanitizeBranchName('synthesis/My Service!'), 'synthesis/My-Service');
    assert.equal(sanitizeBranchName('synthesis/../.git/x.lock'), 'synthesis/git/x-lock');
    assert.equal(sanitizeBranchName('synthesis//a@{1}~^:?*[\\'), 'synthesis/a-1');
    assert.equal(sanitizeBranchName('...'), 'synthesis/intent');
    const nasty = [
      'a..b',
      '.x',
      'x.',
      'x/',
      '/x',
      'a//b',
      '@',
      'a@{b',
      ' ',
      '\u202e',
      'a.lock/b',
      '-a-',
      'x'.repeat(500),
    ];
    for (const text of nasty) {
      const name = sanitizeBranchName(`synthesis/${text}`);
      assert.equal(branchNameProblem(name), undefined, `${JSON.stringify(text)} -> ${name}`);
    }
  });

  it("targets the build's branch unless told otherwise, never itself", () => {
    assert.deepEqual(resolveBranches(CARD, {}, 'refs/heads/main'), {
      branch: 'synthesis/weather',
      targetBranch: 'main',
    });
    assert.deepEqual(
      resolveBranches(CARD, { branch: 'review/x', targetBranch: 'dev' }, 'refs/pull/7/merge'),
      {
        branch: 'review/x',
        targetBranch: 'dev',
      },
    );
    for (const source of ['refs/pull/7/merge', 'refs/tags/v1', undefined]) {
      const err = thrown(() => resolveBranches(CARD, {}, source));
      assert.ok(err instanceof ReviewError);
      assert.equal(err.subject, 'reviewTargetBranch', String(source));
    }
    const same = thrown(() => resolveBranches(CARD, { branch: 'main' }, 'refs/heads/main'));
    assert.equal((same as ReviewError).subject, 'reviewBranch');
  });
});

describe('review: repository paths', () => {
  it('is the output directory relative to the repository root', () => {
    assert.equal(repositoryPath('/a/1/s/services/weather', '/a/1/s'), 'services/weather');
    assert.equal(repositoryPath('/a/1/s/services/weather/', '/a/1/s/'), 'services/weather');
    assert.equal(repositoryPath('/a/1/s', '/a/1/s'), '');
    assert.equal(repositoryPath('D:\\a\\1\\s\\Services\\Weather', 'd:\\A\\1\\S'), 'Services/Weather');
    assert.equal(repositoryPath('D:/a/1/s/gen', 'D:\\a\\1\\s'), 'gen');
  });

  it('fails, naming both, when the output directory is outside the repository', () => {
    for (const [out, sources] of [
      ['/a/1/s2/gen', '/a/1/s'],
      ['/a/1', '/a/1/s'],
      ['/tmp/gen', '/a/1/s'],
      ['gen', '/a/1/s'],
      ['/a/1/s/.git/hooks', '/a/1/s'],
      ['E:\\gen', 'D:\\a\\1\\s'],
    ] as const) {
      const err = thrown(() => repositoryPath(out, sources));
      assert.ok(err instanceof ReviewError, out);
      assert.equal(err.subject, 'outputDirectory');
      assert.ok(
        err.message.includes(JSON.stringify(out)) && err.message.includes('Build.SourcesDirectory'),
        err.message,
      );
      assert.match(err.describe(), /\$\(Build\.SourcesDirectory\)/);
    }
  });

  it('prefixes the files with it', () => {
    const files = [{ path: 'app.py', content: 'x' }];
    assert.deepEqual(repositoryFiles('services/weather', files), [
      { path: 'services/weather/app.py', content: 'x' },
    ]);
    assert.deepEqual(repositoryFiles('', files), files);
  });
});

describe('review: title, commit message and description', () => {
  it('titles the pull request and the commit after the intent', () => {
    assert.equal(reviewTitle(CARD), 'Code synthesis: weather (python/flask)');
    assert.match(reviewTitle(TEXT), /^Code synthesis: free-text intent [0-9a-f]{8}$/);
    assert.equal(
      reviewCommitMessage(CARD, '1.2.3', '20261105.4'),
      'Code synthesis: weather (python/flask)\n\nGenerated by the CodeSynthesis task 1.2.3 in build 20261105.4.\n',
    );
  });

  it('shows service, model, tokens, the build link, sections and every file when it fits', () => {
    const manifest = sampleManifest([
      { path: 'app.py', sha256: 'c'.repeat(64), bytes: 120, action: 'created' },
      {
        path: 'docs/[x](https://evil.example)|<b>.md',
        sha256: 'c'.repeat(64),
        bytes: 5,
        action: 'overwritten',
      },
    ]);
    const text = buildReviewDescription({
      manifest,
      buildUrl: 'https://dev.azure.com/contoso/web/_build/results?buildId=42',
      sections: [{ heading: 'Validation', lines: ['Round 1: `pytest` exited 0.'] }],
    });
    assert.ok(text.includes('**Service:** weather \\(python/flask\\)'), 'escaped like the summary');
    assert.match(text, /gpt-4o/);
    assert.match(text, /\*\*Tokens:\*\* 1200 prompt, 3400 completion/);
    assert.match(
      text,
      /\[this build\]\(https:\/\/dev\.azure\.com\/contoso\/web\/_build\/results\?buildId=42\)/,
    );
    assert.match(text, /### Validation\n\nRound 1: `pytest` exited 0\./);
    assert.match(text, /### Files \(2\)/);
    assert.match(text, /\| app\.py \| 120 \| created \|/);
    assert.ok(text.includes('docs/\\[x\\]\\(https://evil.example\\)\\|\\<b\\>.md'), 'paths are escaped');
    assert.ok(!/Shortened/.test(text));
    assert.ok(text.indexOf('### Validation') < text.indexOf('### Files'));
  });

  it('cuts to 4,000 characters, keeping the sections before the files, and says what was left out', () => {
    const buildUrl = buildSummaryUrl('https://dev.azure.com/contoso/', 'web', '42');
    const findings = Array.from(
      { length: 12 },
      (_, i) => `- finding ${i}: hard-coded secret in config_${i}.py`,
    );
    const text = buildReviewDescription({
      manifest: sampleManifest(manyFiles(300)),
      buildUrl,
      sections: [{ heading: 'Findings', lines: findings }],
    });
    assert.ok(text.length <= MAX_DESCRIPTION_CHARS, String(text.length));
    for (const f of findings) assert.ok(text.includes(f), 'every finding is kept');
    const rows = text.split('\n').filter((l) => l.startsWith('| src/'));
    assert.ok(rows.length > 10 && rows.length < 300, String(rows.length));
    assert.ok(
      text.includes(`${300 - rows.length} of 300 file(s) left out`),
      text.slice(text.lastIndexOf('---')),
    );
    assert.ok(text.includes(`The full summary is in [the build](${buildUrl})`));
    assert.match(text, /Shortened to Azure DevOps' 4,000-character limit/);
  });

  it("keeps to another service's limit when given one (GitHub's 65,536), naming it in the note", () => {
    const limit = { chars: 65536, service: "GitHub's" };
    const manifest = sampleManifest(manyFiles(300));
    const whole = buildReviewDescription({ manifest, limit });
    assert.ok(whole.length > MAX_DESCRIPTION_CHARS && whole.length <= 65536, String(whole.length));
    assert.equal(whole.split('\n').filter((l) => l.startsWith('| src/')).length, 300, 'every file listed');
    assert.ok(!/Shortened/.test(whole));

    const shortened = buildReviewDescription({ manifest: sampleManifest(manyFiles(3000)), limit });
    assert.ok(shortened.length <= 65536 && shortened.length > 60000, String(shortened.length));
    assert.match(shortened, /Shortened to GitHub's 65,536-character limit: \d+ of 3000 file\(s\) left out/);
    assert.doesNotMatch(shortened, /Azure DevOps/);
  });

  it('stays within the limit whatever it is given', () => {
    const huge = 'y'.repeat(20_000);
    const cases = [
      { manifest: sampleManifest(manyFiles(5000, 1)) },
      { manifest: sampleManifest(manyFiles(1)), sections: [{ heading: 'Output', lines: [huge] }] },
      {
        manifest: sampleManifest(manyFiles(50)),
        sections: Array.from({ length: 40 }, (_, i) => ({ heading: `S${i}`, lines: ['z'.repeat(300)] })),
      },
      { manifest: sampleManifest(manyFiles(200)), buildUrl: `https://x/${'p'.repeat(2000)}` },
    ];
    for (const input of cases) {
      const text = buildReviewDescription(input);
      assert.ok(text.length <= MAX_DESCRIPTION_CHARS, String(text.length));
      assert.match(text, /## Code synthesis/);
    }
    const noLink = buildReviewDescription({ manifest: sampleManifest(manyFiles(300)) });
    assert.match(noLink, /The full summary is on the build's Code synthesis tab/);
    const lines = buildReviewDescription(cases[1]!).split('\n');
    assert.ok(
      lines.every((l) => l.length <= 1000),
      'no line is longer than 1,000 characters',
    );
  });

  it('cuts text without splitting a surrogate pair', () => {
    assert.equal(cut('abc', 3), 'abc');
    assert.equal(cut('abcdef', 4), 'abc…');
    const emoji = 'ab\u{1F600}cd';
    assert.equal(cut(emoji, 4), 'ab…');
    assert.equal(cut(emoji, 5), 'ab\u{1F600}…');
  });
});
