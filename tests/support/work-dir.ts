import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary folder for each test: `work` (the agent's temp folder) and `out`, its `s` folder. */
export interface WorkDir {
  /** The work folder, Agent.TempDirectory. */
  readonly work: string;
  /** `<work>/s`, the sources folder (Build.SourcesDirectory), seeded with the given files. */
  readonly out: string;
}

/**
 * Registers a beforeEach that makes a work folder under the system temp folder (named `<prefix>-…`)
 * with an `s` folder holding `seed` (paths relative to it, with their text), and an afterEach that
 * removes it. Read `work` and `out` only inside a test or hook.
 */
export function useWorkDir(prefix: string, seed: Record<string, string>): WorkDir {
  let work: string | undefined;
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
    const out = path.join(work, 's');
    fs.mkdirSync(out);
    for (const [file, text] of Object.entries(seed)) {
      fs.mkdirSync(path.dirname(path.join(out, file)), { recursive: true });
      fs.writeFileSync(path.join(out, file), text);
    }
  });
  afterEach(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
    work = undefined;
  });
  const current = (): string => {
    if (!work) throw new Error(`the ${prefix} work folder exists only while a test runs`);
    return work;
  };
  return {
    get work() {
      return current();
    },
    get out() {
      return path.join(current(), 's');
    },
  };
}
