import fs from 'node:fs';
import path from 'node:path';

/** Every entry under root with its kind, mode, content or link target: equal snapshots mean an unchanged tree. */
export function snapshotTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(root)) return out;
  const walk = (dir: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const rel = path.relative(root, full);
      const st = fs.lstatSync(full);
      if (st.isSymbolicLink()) out[rel] = `link:${fs.readlinkSync(full)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir:${(st.mode & 0o777).toString(8)}`;
        walk(full);
      } else out[rel] = `file:${(st.mode & 0o777).toString(8)}:${fs.readFileSync(full, 'base64')}`;
    }
  };
  walk(root);
  return out;
}
