/**
 * The pull-request gate (Azure Repos Git; GitHub through the action): the port that pushes the generated
 * files to a review branch and opens (or updates) a pull request, and the pure decisions around it: which
 * repository, which branches, which repository paths, and the description, cut to the service's limit
 * (Azure DevOps' 4,000 characters by default).
 *
 * Branch names here are short names (`synthesis/weather`, `main`), never `refs/heads/...`.
 */
import { posix, win32 } from 'node:path';
import { INPUTS, OUTPUTS } from './contract';
import { InputError, SynthesisError } from './errors';
import type { Intent } from './intent';
import { sha256, type Manifest } from './manifest';
import { showPath } from './paths';
import { escapeMarkdown } from './summary';

/** The review inputs, by YAML name (contract.ts). */
export const REVIEW_INPUTS = {
  reviewMode: INPUTS.reviewMode,
  reviewBranch: INPUTS.reviewBranch,
  reviewTargetBranch: INPUTS.reviewTargetBranch,
  reviewDraft: INPUTS.reviewDraft,
  reviewers: INPUTS.reviewers,
} as const;

/** The review output variables (contract.ts). */
export const REVIEW_OUTPUTS = {
  pullRequestId: OUTPUTS.pullRequestId,
  pullRequestUrl: OUTPUTS.pullRequestUrl,
  reviewBranch: OUTPUTS.reviewBranch,
} as const;

/** The label every pull request of the task carries. */
export const REVIEW_LABEL = 'code-synthesis';

/** Azure DevOps refuses a pull request description longer than this (in UTF-16 code units). */
export const MAX_DESCRIPTION_CHARS = 4000;

/** The only Build.Repository.Provider the gate supports. */
export const AZURE_REPOS_PROVIDER = 'TfsGit';

/** Publishing for review failed (wrong repository type, location, permission, Azure DevOps refused). */
export class ReviewError extends SynthesisError {}

/** A file to commit, its path relative to the repository root with '/' separators. */
export interface ReviewFile {
  path: string;
  content: string;
}

/** One publication: one push with one commit on `branch`, then one pull request into `targetBranch`. */
export interface ReviewRequest {
  /** Build.Repository.ID (or the repository's name). */
  repositoryId: string;
  /** Project name or id; the publisher's own project (System.TeamProject) when absent. */
  project?: string;
  /** The review branch, e.g. `synthesis/weather`. */
  branch: string;
  /** The branch the pull request merges into, e.g. `main`. */
  targetBranch: string;
  /** The commit a new review branch starts from (Build.SourceVersion). Ignored when the branch exists. */
  baseCommit: string;
  /** Every file of the commit, the manifest included. */
  files: readonly ReviewFile[];
  commitMessage: string;
  /** Title of a new pull request (an existing one keeps its title). */
  title: string;
  /** Markdown, within the service's limit (MAX_DESCRIPTION_CHARS for Azure DevOps; see buildReviewDescription). */
  description: string;
  /** Open a new pull request as a draft. */
  draft: boolean;
  /** Azure DevOps identity ids (GUIDs) added as reviewers of a new pull request. */
  reviewers: readonly string[];
  /** Label put on a new pull request (REVIEW_LABEL). */
  label: string;
}

export interface ReviewResult {
  pullRequestId: number;
  /** The web URL, `.../_git/<repository>/pullrequest/<id>`. */
  pullRequestUrl: string;
  branch: string;
  /** False when an active pull request from `branch` into the target already existed and was updated. */
  created: boolean;
  /** The commit the push created, now the head of `branch`. */
  commitId: string;
}

/** Pushes files for review and opens or updates the pull request. */
export interface ReviewPublisher {
  /**
   * One push, one commit: on top of the branch head when `branch` exists, else on `baseCommit` (a new
   * branch). Then the active pull request from `branch` into `targetBranch` gets the new description,
   * or, when there is none, a new one is created (draft, reviewers, label). Never a second pull request.
   * `signal` stops the work before the push; once the push is sent the publication completes.
   * @throws ReviewError naming the operation, and for missing rights the permission, the build identity
   *   and where to grant it; CancelledError when `signal` aborts before the push.
   */
  publish(request: ReviewRequest, signal: AbortSignal): Promise<ReviewResult>;
}

export type ReviewSettings =
  | { mode: 'none' }
  | {
      mode: 'pullRequest';
      /** The user's reviewBranch, checked; undefined for the default (see resolveBranches). */
      branch?: string;
      /** The user's reviewTargetBranch, without refs/heads/; undefined for the build's branch. */
      targetBranch?: string;
      draft: boolean;
      reviewers: string[];
    };

const MODES = ['none', 'pullRequest'] as const;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads the reviewers input into the identities the review service takes.
 * @throws InputError listing every entry that is not one.
 */
export type ReviewersParser = (text: string | undefined) => string[];

/**
 * Read the review inputs (raw strings by YAML name, unset or empty meaning the default). Reviewers are
 * read by `readReviewers`: Azure DevOps identity ids (parseReviewers) unless the front door says otherwise.
 * @throws InputError naming the input: a mode, boolean or branch name that is not valid, or reviewers
 *   that `readReviewers` refuses (all of them listed).
 */
export function parseReviewSettings(
  raw: Readonly<Record<string, string | undefined>>,
  readReviewers: ReviewersParser = parseReviewers,
): ReviewSettings {
  const get = (name: string): string | undefined => raw[name]?.trim() || undefined;
  const modeText = get(REVIEW_INPUTS.reviewMode) ?? 'none';
  const mode = MODES.find((m) => m.toLowerCase() === modeText.toLowerCase());
  if (!mode)
    throw new InputError(
      REVIEW_INPUTS.reviewMode,
      `'${modeText}' is not one of the accepted values.`,
      `Use one of: ${MODES.join(', ')}.`,
    );
  if (mode === 'none') return { mode };
  const draftText = get(REVIEW_INPUTS.reviewDraft)?.toLowerCase() ?? 'false';
  if (draftText !== 'true' && draftText !== 'false')
    throw new InputError(REVIEW_INPUTS.reviewDraft, `'${draftText}' is not a boolean.`, 'Use true or false.');
  const branch = get(REVIEW_INPUTS.reviewBranch);
  const target = get(REVIEW_INPUTS.reviewTargetBranch);
  return {
    mode,
    ...(branch ? { branch: checkBranchInput(REVIEW_INPUTS.reviewBranch, branch) } : {}),
    ...(target ? { targetBranch: checkBranchInput(REVIEW_INPUTS.reviewTargetBranch, target) } : {}),
    draft: draftText === 'true',
    reviewers: readReviewers(get(REVIEW_INPUTS.reviewers)),
  };
}

/**
 * Reviewers: Azure DevOps identity ids (GUIDs), one per line or separated by commas or semicolons,
 * duplicates dropped. The pull request API takes ids only.
 * @throws InputError listing every entry that is not a GUID.
 */
export function parseReviewers(text: string | undefined): string[] {
  const entries = (text ?? '')
    .split(/[\r\n,;]+/)
    .map((e) => e.trim())
    .filter(Boolean);
  const bad = entries.filter((e) => !GUID.test(e));
  if (bad.length)
    throw new InputError(
      REVIEW_INPUTS.reviewers,
      `${bad.map((b) => showPath(b)).join(', ')} ${bad.length === 1 ? 'is not an identity id' : 'are not identity ids'}.`,
      "Give each reviewer's Azure DevOps identity id (a GUID, e.g. from Organization settings > Users or the Graph API); names and e-mail addresses are not resolved.",
    );
  return [...new Map(entries.map((e) => [e.toLowerCase(), e])).values()];
}

/**
 * The gate works on Azure Repos Git only. Call it before the model is called.
 * @throws ReviewError when Build.Repository.Provider is anything else (GitHub, Bitbucket, TfsVersionControl, ...).
 */
export function checkRepositoryProvider(provider: string | undefined): void {
  if (provider?.trim().toLowerCase() === AZURE_REPOS_PROVIDER.toLowerCase()) return;
  throw new ReviewError(
    `reviewMode 'pullRequest' opens pull requests in Azure Repos Git only, and this build's repository is ${provider?.trim() ? `'${provider.trim().slice(0, 40)}'` : 'unknown'} (Build.Repository.Provider).`,
    REVIEW_INPUTS.reviewMode,
    "Set reviewMode to 'none', or run the pipeline on an Azure Repos Git repository. Pull requests on GitHub come with the GitHub Action front door.",
  );
}

/**
 * What the gate needs from the build, read from its predefined variables (readBuildContext; a GitHub
 * runner's are read by the action's composition, without the Azure DevOps fields).
 */
export interface BuildContext {
  /** Build.Repository.ID (owner/name on GitHub) */
  repositoryId: string;
  /** Build.SourceVersion: the commit a new review branch starts from. */
  sourceVersion: string;
  /** Build.SourceBranch, e.g. refs/heads/main (refs/pull/1/merge in a pull-request build). */
  sourceBranch?: string;
  /** Build.SourcesDirectory: the repository root on the agent. */
  sourcesDirectory: string;
  /** System.CollectionUri (Azure DevOps only) */
  collectionUri?: string;
  /** System.TeamProject (Azure DevOps only) */
  project?: string;
  /** Build.BuildId, for the link to the build summary. */
  buildId?: string;
}

const BUILD_VARIABLES: Array<[Exclude<keyof BuildContext, 'sourceBranch' | 'buildId'>, string]> = [
  ['repositoryId', 'Build.Repository.ID'],
  ['sourceVersion', 'Build.SourceVersion'],
  ['sourcesDirectory', 'Build.SourcesDirectory'],
  ['collectionUri', 'System.CollectionUri'],
  ['project', 'System.TeamProject'],
];

/**
 * Check the repository provider, then read the build variables the gate needs.
 * @throws ReviewError for another provider (checkRepositoryProvider), or naming every missing variable.
 */
export function readBuildContext(getVariable: (name: string) => string | undefined): BuildContext {
  checkRepositoryProvider(getVariable('Build.Repository.Provider'));
  const context: Partial<BuildContext> = {};
  const missing: string[] = [];
  for (const [key, name] of BUILD_VARIABLES) {
    const value = getVariable(name)?.trim();
    if (value) context[key] = value;
    else missing.push(name);
  }
  if (missing.length)
    throw new ReviewError(
      `reviewMode 'pullRequest' needs the pipeline variables ${missing.join(', ')}, which are not set.`,
      REVIEW_INPUTS.reviewMode,
      'Run the task in an Azure Pipelines job that checks out the Azure Repos Git repository (checkout: self).',
    );
  const sourceBranch = getVariable('Build.SourceBranch')?.trim();
  const buildId = getVariable('Build.BuildId')?.trim();
  return {
    ...(context as BuildContext),
    ...(sourceBranch ? { sourceBranch } : {}),
    ...(buildId ? { buildId } : {}),
  };
}

/**
 * Why a name is not a valid Git branch name (git check-ref-format rules), or undefined when it is.
 * `name` is the short name, without refs/heads/.
 */
export function branchNameProblem(name: string): string | undefined {
  if (!name) return 'it is empty';
  if (name.length > 250) return 'it is longer than 250 characters';
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name))
    return 'it contains a space, a control character or one of ~ ^ : ? * [ \\';
  if (name.includes('..')) return "it contains '..'";
  if (name.includes('@{') || name === '@') return "it contains '@{' or is '@'";
  if (name.startsWith('/') || name.endsWith('/') || name.includes('//'))
    return "it starts or ends with '/' or has an empty part";
  if (name.endsWith('.')) return "it ends with '.'";
  const part = name.split('/').find((p) => p.startsWith('.') || p.endsWith('.lock'));
  if (part !== undefined) return `its part '${part}' starts with '.' or ends with '.lock'`;
  return undefined;
}

/**
 * A valid branch name made from any text: characters other than letters, digits, '.', '_', '-' and
 * '/' become '-', and every git check-ref-format rule is then met (no '..', no part starting with '.'
 * or ending with '.lock', no empty part). Empty results become `synthesis/intent`.
 */
export function sanitizeBranchName(text: string): string {
  const parts = text
    .replace(/[^A-Za-z0-9._/-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .split('/')
    .map((p) =>
      p
        .replace(/^[.-]+/, '')
        .replace(/\.lock$/i, '-lock')
        .replace(/[.-]+$/, '')
        .replace(/-{2,}/g, '-'),
    )
    .filter(Boolean);
  const name = parts
    .join('/')
    .slice(0, 200)
    .replace(/[./-]+$/, '');
  return name || 'synthesis/intent';
}

/** `synthesis/<service name>` for a service card, `synthesis/intent-<first 8 hex of the intent's sha256>` for free text. */
export function defaultReviewBranch(intent: Intent): string {
  return sanitizeBranchName(
    intent.kind === 'card'
      ? `synthesis/${intent.card.name}`
      : intent.kind === 'stack'
        ? `synthesis/${intent.stack.name}`
        : `synthesis/intent-${sha256(intent.text).slice(0, 8)}`,
  );
}

/**
 * The review branch and the target branch of the pull request.
 * @throws ReviewError when no target can be known (a pull-request or tag build without
 *   reviewTargetBranch) or when both are the same branch.
 */
export function resolveBranches(
  intent: Intent,
  settings: { branch?: string; targetBranch?: string },
  sourceBranch: string | undefined,
): { branch: string; targetBranch: string } {
  const branch = settings.branch ?? defaultReviewBranch(intent);
  let targetBranch = settings.targetBranch;
  if (!targetBranch) {
    const ref = sourceBranch?.trim() ?? '';
    if (!ref.startsWith('refs/heads/') || branchNameProblem(ref.slice('refs/heads/'.length)))
      throw new ReviewError(
        `The build's branch ${ref ? `'${ref.slice(0, 120)}'` : '(Build.SourceBranch) is unknown and'} is not a branch a pull request can target.`,
        REVIEW_INPUTS.reviewTargetBranch,
        `Set '${REVIEW_INPUTS.reviewTargetBranch}' to the branch the pull request should merge into, e.g. main.`,
      );
    targetBranch = ref.slice('refs/heads/'.length);
  }
  if (branch === targetBranch)
    throw new ReviewError(
      `The review branch and the target branch are both '${branch}'.`,
      REVIEW_INPUTS.reviewBranch,
      `Set '${REVIEW_INPUTS.reviewBranch}' to a branch of its own, e.g. synthesis/<service name> (the default).`,
    );
  return { branch, targetBranch };
}

/** A branch input without refs/heads/, checked. */
function checkBranchInput(input: string, value: string): string {
  const name = value.replace(/^refs\/heads\//, '');
  const problem = branchNameProblem(name);
  if (problem)
    throw new InputError(
      input,
      `${showPath(value)} is not a valid branch name: ${problem}.`,
      'Use a branch name such as synthesis/weather (letters, digits, -, _, . and /).',
    );
  return name;
}

/**
 * Where the output directory is in the repository: its path relative to the repository root
 * (Build.SourcesDirectory), with '/' separators, '' for the root itself. Both paths must be absolute;
 * Windows paths compare case-insensitively. Symbolic links are not resolved.
 * @throws ReviewError when the output directory is not inside the repository, or is inside .git.
 */
export function repositoryPath(outputDirectory: string, sourcesDirectory: string): string {
  const windows = [outputDirectory, sourcesDirectory].some((p) => /^([A-Za-z]:[\\/]|\\\\)/.test(p));
  const p = windows ? win32 : posix;
  const outside = (): ReviewError =>
    new ReviewError(
      `The output directory ${showPath(outputDirectory)} is not inside the repository checkout ${showPath(sourcesDirectory)} (Build.SourcesDirectory), so its files cannot be committed to a review branch.`,
      'outputDirectory',
      "Set 'outputDirectory' to a folder under $(Build.SourcesDirectory), e.g. $(Build.SourcesDirectory)/services/weather.",
    );
  if (!p.isAbsolute(outputDirectory) || !p.isAbsolute(sourcesDirectory)) throw outside();
  const relative = p.relative(sourcesDirectory, outputDirectory);
  if (p.isAbsolute(relative) || relative === '..' || relative.startsWith('..' + p.sep)) throw outside();
  const parts = relative.split(p.sep).filter(Boolean);
  if (parts[0]?.toLowerCase() === '.git') throw outside();
  return parts.join('/');
}

/** The files with paths relative to the repository root, given the output directory's repository path. */
export function repositoryFiles(
  prefix: string,
  files: readonly { path: string; content: string }[],
): ReviewFile[] {
  return files.map((f) => ({ path: prefix ? `${prefix}/${f.path}` : f.path, content: f.content }));
}

/** The organization (or on-premises collection) named by a collection URI. */
export function organizationName(collectionUri: string): string {
  try {
    const url = new URL(collectionUri);
    if (/\.visualstudio\.com$/i.test(url.hostname)) return url.hostname.split('.')[0]!;
    return url.pathname.split('/').filter(Boolean).at(-1) ?? url.hostname;
  } catch {
    return '<organization>';
  }
}

/** The identity pipelines run as with a project-scoped job token: `<Project> Build Service (<org>)`. */
export function buildServiceIdentity(collectionUri: string, project: string): string {
  return `${project} Build Service (${organizationName(collectionUri)})`;
}

/** The build results page, on its Extensions tab, where the task's summary is shown. */
export function buildSummaryUrl(collectionUri: string, project: string, buildId: string): string {
  return `${collectionUri.replace(/\/+$/, '')}/${encodeURIComponent(project)}/_build/results?buildId=${encodeURIComponent(buildId)}&view=ms.vss-build-web.run-extensions-tab`;
}

/** The title of a new pull request. */
export function reviewTitle(intent: Intent): string {
  if (intent.kind === 'stack')
    return `Code synthesis: stack ${intent.stack.name} (${intent.stack.services.map((s) => s.name).join(', ')})`;
  return intent.kind === 'card'
    ? `Code synthesis: ${intent.card.name} (${intent.card.language}/${intent.card.framework})`
    : `Code synthesis: free-text intent ${sha256(intent.text).slice(0, 8)}`;
}

/** The commit message: the title, then where it came from. */
export function reviewCommitMessage(intent: Intent, version: string, buildNumber?: string): string {
  return `${reviewTitle(intent)}\n\nGenerated by the CodeSynthesis task ${version}${buildNumber ? ` in build ${buildNumber}` : ''}.\n`;
}

/** A part of the description after the header: findings, validation rounds, conflicts. */
export interface DescriptionSection {
  heading: string;
  /** Markdown lines; text from the model or a command must already be escaped (escapeMarkdown) or fenced. */
  lines: readonly string[];
}

/** A service's limit on a pull request description, and whose it is, for the note on a shortened one. */
export interface DescriptionLimit {
  /** The most UTF-16 code units the service accepts. */
  chars: number;
  /** The service, possessive, as the note says it: "Azure DevOps'", "GitHub's". */
  service: string;
}

/** Azure DevOps' limit, the default of buildReviewDescription. */
export const AZURE_DEVOPS_DESCRIPTION_LIMIT: DescriptionLimit = {
  chars: MAX_DESCRIPTION_CHARS,
  service: "Azure DevOps'",
};

export interface ReviewDescriptionInput {
  manifest: Manifest;
  /** The build summary (buildSummaryUrl): linked at the top, and where a shortened description points. */
  buildUrl?: string;
  /** Shown after the header and before the file list, and kept before it when space runs out. */
  sections?: readonly DescriptionSection[];
  /** The limit to keep to; AZURE_DEVOPS_DESCRIPTION_LIMIT when absent. */
  limit?: DescriptionLimit;
}

/** No single line of the description is longer than this. */
const MAX_LINE = 1000;
/** Room kept for the note that says what was left out. */
const TRAILER_ROOM = 420;

/**
 * The pull request description: service, model, tokens, a link to the build, the sections, then the
 * files. At most `input.limit.chars` (MAX_DESCRIPTION_CHARS by default): when the whole text is
 * longer, the header is kept, then the sections' lines in order, then as many file rows as fit, and a
 * closing note says how much was left out, under whose limit, and links to the build summary. Paths
 * are escaped.
 */
export function buildReviewDescription(input: ReviewDescriptionInput): string {
  const m = input.manifest;
  const limit = input.limit ?? AZURE_DEVOPS_DESCRIPTION_LIMIT;
  const max = limit.chars;
  const link = input.buildUrl && input.buildUrl.length <= 300 ? input.buildUrl : undefined;
  const service = m.intent.serviceName
    ? `${m.intent.serviceName} (${m.intent.language}/${m.intent.framework})`
    : 'free-text intent';
  const model = [m.model.provider, m.model.deployment, m.model.model, m.model.endpointHost]
    .filter(Boolean)
    .join(' · ');
  const header = [
    '## Code synthesis',
    '',
    link
      ? `Generated by the CodeSynthesis task in [this build](${link}). Review it like any contribution.`
      : 'Generated by the CodeSynthesis task. Review it like any contribution.',
    '',
    `**Service:** ${escapeMarkdown(service)}  `,
    `**Model:** ${escapeMarkdown(model)}  `,
    `**Tokens:** ${m.usage.promptTokens} prompt, ${m.usage.completionTokens} completion`,
  ].map(clipLine);
  const blocks = (input.sections ?? []).map((s) => ({
    head: ['', `### ${escapeMarkdown(s.heading)}`, ''].map(clipLine),
    lines: s.lines.map(clipLine),
    name: s.heading,
  }));
  const files = {
    head: ['', `### Files (${m.files.length})`, '', '| File | Bytes | Action |', '|---|---:|---|'],
    lines: m.files.map((f) => clipLine(`| ${escapeMarkdown(f.path)} | ${f.bytes} | ${f.action} |`)),
  };
  const render = (parts: string[][]): string => parts.flat().join('\n') + '\n';
  const full = render([header, ...blocks.flatMap((b) => [b.head, b.lines]), files.head, files.lines]);
  if (full.length <= max) return full;

  let room = max - TRAILER_ROOM - render([header]).length;
  const take = (head: string[], lines: readonly string[]): string[] => {
    const headCost = head.join('\n').length + 1;
    if (headCost >= room) return [];
    let used = headCost;
    const kept: string[] = [];
    for (const line of lines) {
      if (used + line.length + 1 > room) break;
      kept.push(line);
      used += line.length + 1;
    }
    if (!kept.length) return [];
    room -= used;
    return [...head, ...kept];
  };
  const keptBlocks = blocks.map((b) => take(b.head, b.lines));
  const keptFiles = take(files.head, files.lines);
  const omittedFiles = files.lines.length - Math.max(0, keptFiles.length - files.head.length);
  const omittedSections = blocks
    .map((b, i) => ({
      name: b.name,
      left: b.lines.length - Math.max(0, keptBlocks[i]!.length - b.head.length),
    }))
    .filter((s) => s.left > 0);
  const left = [
    ...(omittedFiles ? [`${omittedFiles} of ${files.lines.length} file(s)`] : []),
    ...omittedSections.map((s) => `${s.left} line(s) of '${escapeMarkdown(s.name.slice(0, 60))}'`),
  ];
  const trailer = [
    '',
    '---',
    `_Shortened to ${limit.service} ${max.toLocaleString('en-US')}-character limit${left.length ? `: ${left.join(', ')} left out` : ''}. ${link ? `The full summary is in [the build](${link}).` : "The full summary is on the build's Code synthesis tab."}_`,
  ];
  return cut(render([header, ...keptBlocks, keptFiles, trailer]), max);
}

/** The text cut to `max` UTF-16 units without splitting a surrogate pair, '…' marking a cut. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  if (/[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end--;
  return text.slice(0, end) + '…';
}

function clipLine(line: string): string {
  return cut(line, MAX_LINE);
}
