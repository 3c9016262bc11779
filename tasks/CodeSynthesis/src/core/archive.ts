/**
 * The archive provider (input archiveFile) in the core: what stands in for the intent when none is given,
 * and the review branch that goes with it. The archive itself is read by adapters/archive; the manifest
 * records it under model.archive (file, format, SHA-256 of its bytes).
 */
import type { Intent } from './intent';
import { showPath } from './paths';
import { sanitizeBranchName } from './review';

/** The archive's file name: the last segment of its path, either separator. */
export function archiveFileName(file: string): string {
  return file.split(/[\\/]/).filter(Boolean).at(-1) ?? file;
}

/**
 * The intent recorded when the archive provider runs without one: free text naming the archive's file
 * (escaped with showPath), `Files unpacked from "generated.zip".`. Its SHA-256 is the manifest's intent hash.
 */
export function archiveIntent(file: string): Intent {
  return { kind: 'text', text: `Files unpacked from ${showPath(archiveFileName(file))}.` };
}

/**
 * The default review branch when the archive stands for the intent: `synthesis/archive-<file name
 * without .zip, .tar, .tgz or .tar.gz>`, e.g. `synthesis/archive-generated`. It follows the file's name,
 * not its content, so that the next run with a new `generated.zip` updates the same pull request, as a
 * service card's `synthesis/<service name>` does.
 */
export function archiveReviewBranch(file: string): string {
  const stem = archiveFileName(file).replace(/\.(zip|tar|tgz|tar\.gz)$/i, '');
  return sanitizeBranchName(`synthesis/archive-${stem}`);
}
