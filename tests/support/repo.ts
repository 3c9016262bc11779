import fs from 'node:fs';
import path from 'node:path';

/** The repository root: the nearest folder above the compiled tests that holds package.json. */
export const REPO_ROOT = ((): string => {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${__dirname}`);
    dir = parent;
  }
  return dir;
})();
