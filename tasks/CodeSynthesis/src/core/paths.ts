/**
 * Paths: the model proposes file paths; this stage decides which may be written, before anything
 * touches the disk. Model output is untrusted, so every rule rejects rather than repairs anything
 * that could escape the output directory, alias another file, hide in a listing or break a checkout
 * on Windows or macOS.
 */
import picomatch from 'picomatch/posix';
import { InputError, LimitError, PathError } from './errors';
import type { FileToWrite } from './ports';

/** The limits and user globs that apply to one run (from Settings). */
export interface PathRules {
  /** User globs (picomatch, case-insensitive, dotfiles included), relative to the output directory. */
  deniedPaths: readonly string[];
  maxFiles: number;
  maxTotalBytes: number;
}

/**
 * Globs that are always denied, whatever the user sets: repository internals (`.gitmodules` and
 * `.gitattributes` change how the repository is checked out and built), pipeline and automation
 * definitions a generated file must never replace, and the task's own folders (`.synthesis/` holds
 * the manifest, `.synthesis-staging-*` is the writer's scratch area).
 * A path is denied when a glob matches it or any of its parent folders, so `.github/**` also
 * forbids a file named `.github`. (picomatch's `x-*\/**` does not match a bare `x-abc`, so the
 * staging glob names the folder itself.)
 */
export const BUILTIN_DENIED: readonly string[] = [
  '.git/**',
  '**/.git/**',
  '**/.gitmodules',
  '**/.gitattributes',
  '**/azure-pipelines*.yml',
  '**/azure-pipelines*.yaml',
  '.azuredevops/**',
  '.github/**',
  '.synthesis/**',
  '.synthesis-staging-*',
];

/** Longest path accepted, in UTF-16 code units: keeps generated trees usable under Windows path limits. */
export const MAX_PATH_CHARS = 400;
/** Longest file or folder name, in UTF-8 bytes (the limit of ext4, APFS and NTFS). */
export const MAX_SEGMENT_BYTES = 255;

/**
 * Windows device names: reserved in every folder, with any extension, in any case
 * (`con.txt`, `Aux.tar.gz`). Superscript digits count too, and so do the console aliases.
 */
const RESERVED =
  /^(con|prn|aux|nul|com[1-9\u00b9\u00b2\u00b3]|lpt[1-9\u00b9\u00b2\u00b3]|conin\$|conout\$)$/i;
/** Characters Windows does not allow in a name (':' also covers drive letters and NTFS streams). */
const WINDOWS_INVALID = /[<>:"|?*]/;
/**
 * Invisible or deceptive characters: C0/C1 controls and DEL (\p{Cc}); format characters (\p{Cf}):
 * bidi overrides U+202A-202E and isolates U+2066-2069, zero-width characters and BOM, which
 * macOS HFS+ ignores in names (so `.g\u200cit` would be `.git`); every other default-ignorable code
 * point (\p{DI}: the combining grapheme joiner U+034F, Hangul fillers U+115F, U+3164, U+FFA0,
 * variation selectors), which render as nothing, so `README\u034f.md` looks like `README.md`;
 * blanks other than the space (\p{White_Space}: no-break, ideographic and other spaces, line and
 * paragraph separators) and the Braille blank U+2800; lone surrogates, which have no UTF-8 form.
 */
const HIDDEN =
  /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u2800\u3000\uD800-\uDFFF]/u;
const HIDDEN_ALL = new RegExp(HIDDEN.source, 'gu');
/** How many offending names one rule quotes for one path; the rest are counted. */
const QUOTED_NAMES = 1;
/**
 * A Windows 8.3 short name (`GIT~1`, `GITHUB~1`, `AZURE-~1.YML`): on volumes that keep short names it
 * reaches a long-named entry and so gets around the denied paths (CVE-2014-9390 for `.git`). Generated
 * code has no need of such names.
 */
const SHORT_NAME = /~\d+(\.[^.]*)?$/;

const utf8 = new TextEncoder();

/**
 * The key under which two names are the same file on a case-insensitive or normalisation-insensitive
 * file system (Windows, macOS): NFC form, lower case.
 */
export function foldName(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/**
 * A path (or any text from the model or the disk) as shown in a message: JSON-escaped, with every
 * character of HIDDEN (controls, bidi overrides, zero-width and other invisible characters, blanks
 * other than the space) as \u escapes too, and cut at 120 characters, so what the reader sees is
 * what it is and one long name cannot flood the message.
 */
export function showPath(path: string): string {
  const cut = path.length > 120 ? path.slice(0, 120) + '…' : path;
  const escape = (unit: number): string => '\\u' + unit.toString(16).padStart(4, '0');
  // JSON.stringify escapes C0 controls and lone surrogates only; escape the rest of HIDDEN too
  // (astral format characters such as the U+E00xx tags as their two UTF-16 units).
  return JSON.stringify(cut).replace(HIDDEN_ALL, (c) =>
    [...Array(c.length).keys()].map((i) => escape(c.charCodeAt(i))).join(''),
  );
}

/**
 * Check and normalise the proposed files.
 *
 * Normalisation is limited to the harmless: '\' becomes '/', duplicate slashes and '.' segments are
 * removed. Everything else is rejected: absolute paths, drive letters, UNC paths, '..' segments,
 * empty paths and paths naming a folder, hidden characters (see HIDDEN), Windows-reserved or invalid
 * names, names ending in '.' or ' ', names over 255 bytes, paths over 400 characters, duplicates and
 * case/Unicode-normalisation collisions, a file that is also a parent folder of another, and paths
 * matching BUILTIN_DENIED or `rules.deniedPaths` (a glob denies a path when it matches the path or
 * any of its parent folders).
 *
 * @returns the files with normalised paths, in the given order.
 * @throws LimitError when the file count exceeds maxFiles or the UTF-8 size exceeds maxTotalBytes
 *   (checked first: a flood of files is reported as such, not path by path).
 * @throws InputError when a deniedPaths glob is not a valid pattern.
 * @throws PathError listing every problem with every path, each path JSON-escaped.
 */
export function checkPaths(files: readonly FileToWrite[], rules: PathRules): FileToWrite[] {
  checkLimits(files, rules);
  const denied = compileDenied(rules.deniedPaths);
  const problems: string[] = [];
  const checked: FileToWrite[] = [];
  const byKey = new Map<string, string>();

  /** Folded folder path -> the folder as first spelled, and the file that first used it. */
  const folders = new Map<string, { folder: string; by: string }>();

  for (const file of files) {
    const { path, reasons } = normalise(file.path);
    if (path !== undefined) {
      const glob = denied.find((d) => ancestry(path).some((p) => d.test(p)));
      if (glob)
        reasons.push(
          glob.builtin ? `is a protected path (${glob.glob})` : `matches deniedPaths '${glob.glob}'`,
        );
      // Every folder on the way, not only the whole path: `Src/a.txt` and `src/b.txt` would create two
      // folders on Linux that are one folder on Windows and macOS.
      const twin = ancestry(path)
        .slice(0, -1)
        .map((folder) => ({ folder, earlier: folders.get(foldName(folder)) }))
        .find(({ folder, earlier }) => earlier !== undefined && earlier.folder !== folder);
      const key = foldName(path);
      const earlier = byKey.get(key);
      if (twin?.earlier)
        reasons.push(
          `folder ${showPath(twin.folder)} differs only in letter case or Unicode form from ${showPath(twin.earlier.folder)} (of ${showPath(twin.earlier.by)})`,
        );
      else if (earlier === path) reasons.push('is proposed more than once');
      else if (earlier !== undefined)
        reasons.push(`differs only in letter case or Unicode form from ${showPath(earlier)}`);
      if (earlier === undefined) byKey.set(key, path);
      for (const folder of ancestry(path).slice(0, -1))
        if (!folders.has(foldName(folder))) folders.set(foldName(folder), { folder, by: path });
    }
    if (reasons.length) problems.push(`${showPath(String(file.path))}: ${reasons.join('; ')}`);
    else if (path !== undefined) checked.push({ path, content: file.content });
  }

  for (const file of checked) {
    for (const folder of ancestry(file.path).slice(0, -1)) {
      const clash = byKey.get(foldName(folder));
      if (clash !== undefined)
        problems.push(`${showPath(clash)}: is a file, but ${showPath(file.path)} needs it to be a folder`);
    }
  }

  if (problems.length) throw new PathError(problems);
  return checked;
}

/**
 * Apply the harmless normalisation and the per-path rules; `path` is undefined when it cannot be written.
 * Each rule gives at most one reason per path, quoting the first offending name (escaped and cut by
 * showPath) and counting the others, so a hostile path cannot make the message long.
 */
function normalise(raw: unknown): { path?: string; reasons: string[] } {
  const reasons: string[] = [];
  if (typeof raw !== 'string') return { reasons: ['is not a string'] };
  if (raw.trim() === '') return { reasons: ['is empty'] };
  const hidden = [...new Set(raw.match(HIDDEN_ALL) ?? [])];
  if (hidden.length) {
    const shown = hidden
      .slice(0, 3)
      .map((c) => 'U+' + c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0'));
    reasons.push(
      `contains control, invisible, blank or bidirectional-override characters (${shown.join(', ')}${hidden.length > 3 ? ', ...' : ''})`,
    );
  }

  const slashed = raw.replace(/\\/g, '/');
  if (slashed.startsWith('//'))
    reasons.push('is a UNC or network path; use a path relative to the output directory');
  else if (slashed.startsWith('/')) reasons.push('is absolute; use a path relative to the output directory');
  if (/^[a-z]:/i.test(slashed))
    reasons.push('has a drive letter; use a path relative to the output directory');
  if (slashed.endsWith('/') || /(^|\/)\.$/.test(slashed)) reasons.push('names a folder, not a file');

  const segments = slashed.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.length === 0 && reasons.length === 0) reasons.push('is empty');
  if (segments.includes('..')) reasons.push("contains a '..' segment");

  const names = [...new Set(segments)].filter((s) => s !== '..');
  const rule = (test: (name: string) => boolean, reason: string): void => {
    const bad = names.filter(test);
    if (!bad.length) return;
    const more = bad.length > QUOTED_NAMES ? ` (and ${bad.length - QUOTED_NAMES} more)` : '';
    reasons.push(`${bad.slice(0, QUOTED_NAMES).map(showPath).join(', ')}${more} ${reason}`);
  };
  rule((name) => RESERVED.test(name.split('.')[0]?.trim() ?? ''), 'is a reserved device name on Windows');
  rule((name) => SHORT_NAME.test(name), 'looks like a Windows 8.3 short name, which can reach a denied path');
  rule((name) => WINDOWS_INVALID.test(name), 'contains a character Windows does not allow (<>:"|?*)');
  rule((name) => /[. ]$/.test(name), "ends in '.' or ' ', which Windows drops");
  if (names.some((name) => utf8.encode(name).length > MAX_SEGMENT_BYTES))
    reasons.push(`a name is longer than ${MAX_SEGMENT_BYTES} bytes`);

  const path = segments.join('/');
  if (path.length > MAX_PATH_CHARS)
    reasons.push(`is ${path.length} characters long; the limit is ${MAX_PATH_CHARS}`);
  return reasons.length ? { reasons } : { path, reasons };
}

/** 'a/b/c' -> ['a', 'a/b', 'a/b/c']. */
function ancestry(path: string): string[] {
  const parts = path.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}

interface DeniedGlob {
  glob: string;
  builtin: boolean;
  test: (path: string) => boolean;
}

function compileDenied(user: readonly string[]): DeniedGlob[] {
  const options = { dot: true, nocase: true };
  const builtin = BUILTIN_DENIED.map((glob) => ({ glob, builtin: true, test: picomatch(glob, options) }));
  const custom = user.map((glob) => {
    // Users write paths as they see them: './secrets/**' and '/secrets/**' mean the same as 'secrets/**'.
    const pattern = glob.trim().replace(/^(\.\/|\/)+/, '');
    try {
      return { glob, builtin: false, test: picomatch(pattern, options) };
    } catch (error) {
      throw new InputError(
        'deniedPaths',
        `'${glob}' is not a valid glob (${(error as Error).message}).`,
        'Use picomatch globs such as secrets/** or **/*.pem, one per line.',
      );
    }
  });
  return [...builtin, ...custom];
}

function checkLimits(files: readonly FileToWrite[], rules: PathRules): void {
  const over: string[] = [];
  let subject = '';
  if (files.length > rules.maxFiles) {
    over.push(`${files.length} files were proposed; maxFiles is ${rules.maxFiles}.`);
    subject = 'maxFiles';
  }
  const bytes = files.reduce((sum, f) => sum + utf8.encode(String(f.content)).length, 0);
  if (bytes > rules.maxTotalBytes) {
    over.push(
      `The files total ${bytes} bytes (${Math.ceil(bytes / 1024)} KB); maxTotalSizeKB is ${Math.floor(rules.maxTotalBytes / 1024)} (${rules.maxTotalBytes} bytes).`,
    );
    subject ||= 'maxTotalSizeKB';
  }
  if (over.length) {
    throw new LimitError(
      `The generated files exceed the limits: ${over.join(' ')}`,
      subject,
      'Nothing was written. Narrow the intent, or raise maxFiles / maxTotalSizeKB on the task.',
    );
  }
}
