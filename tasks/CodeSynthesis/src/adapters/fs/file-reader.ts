import { promises as fs } from 'node:fs';
import type { InputName } from '../../core/contract';
import { InputError } from '../../core/errors';
import type { FileReader } from '../../core/ports';

/** Largest intent or instructions file read (they go into a prompt). */
const MAX_BYTES = 256 * 1024;

/** Reads the text files named by inputs (intentFile, instructionsFile), with errors naming the input. */
export class FsFileReader implements FileReader {
  async readText(path: string, input: InputName): Promise<string> {
    let stat;
    try {
      stat = await fs.stat(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new InputError(
        input,
        `cannot read '${path}' (${code === 'ENOENT' ? 'no such file' : code}).`,
        `Check the path in '${input}'; relative paths are resolved from the working directory.`,
      );
    }
    if (!stat.isFile())
      throw new InputError(input, `'${path}' is not a file.`, `Point '${input}' at a text file.`);
    if (stat.size > MAX_BYTES)
      throw new InputError(
        input,
        `'${path}' is ${stat.size} bytes; the limit is ${MAX_BYTES}.`,
        'Shorten the file.',
      );
    const bytes = await fs.readFile(path);
    const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    if (text.includes('\u0000'))
      throw new InputError(input, `'${path}' is not a text file.`, `Point '${input}' at a UTF-8 text file.`);
    return text;
  }
}
