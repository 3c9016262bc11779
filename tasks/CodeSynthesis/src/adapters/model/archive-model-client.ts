/**
 * The archive provider: the files come from an archive an earlier step (or an in-house generator)
 * made, not from a model. Its reply has the same structured-output shape the models return, so the
 * path checks, limits, scan, review and manifest that follow are the same; no model is called.
 */
import path from 'node:path';
import { CancelledError } from '../../core/errors';
import type { ModelClient, ModelInfo, ModelReply, ModelRequest } from '../../core/ports';
import { readArchive, type ArchiveLimits, type UnpackedArchive } from '../archive/archive-reader';

export { DEFAULT_MAX_RATIO, type ArchiveLimits } from '../archive/archive-reader';

export class ArchiveModelClient implements ModelClient {
  /** Provider 'archive'; `archive` names the file, its format and the SHA-256 of its bytes (kept in the manifest). */
  readonly info: ModelInfo;

  private constructor(
    file: string,
    private readonly archive: UnpackedArchive,
  ) {
    this.info = {
      provider: 'archive',
      deployment: path.basename(file),
      archive: { file, format: archive.format, sha256: archive.sha256, bytes: archive.bytes },
    };
  }

  /**
   * Read and check the archive now, so a hostile or damaged one is refused before anything else runs.
   * @throws the errors of readArchive (InputError, ArchiveError, CancelledError).
   */
  static async open(file: string, limits: ArchiveLimits, signal: AbortSignal): Promise<ArchiveModelClient> {
    return new ArchiveModelClient(file, await readArchive(file, limits, signal));
  }

  /** The archive's files as a reply: id `archive-<first 12 hex of the SHA-256>`, no tokens used. */
  async complete(_request: ModelRequest, signal: AbortSignal): Promise<ModelReply> {
    if (signal.aborted) throw new CancelledError();
    const { files, format, sha256, bytes } = this.archive;
    const summary = `Unpacked ${files.length} file${files.length === 1 ? '' : 's'} from a ${format} archive of ${bytes} bytes (SHA-256 ${sha256}).`;
    return {
      id: `archive-${sha256.slice(0, 12)}`,
      model: 'archive',
      content: JSON.stringify({ files, summary }),
      finishReason: 'stop',
      usage: { promptTokens: 0, completionTokens: 0 },
    };
  }
}
