/**
 * Runs before any test. task-lib's MockTestRunner downloads a Node build unless one is already in its
 * cache (~/azure-pipelines-task-lib/_download/node<major>/node-<version>-linux-x64/bin/node with a
 * node<major>.completed marker; see mock-test.js getNodePath). Tests must not reach the internet, so
 * link the Node running the tests into every slot MockTestRunner may ask for.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const VERSIONS: Record<string, string> = { 20: 'v20.13.1', 24: 'v24.10.0' };

export function linkNodeForMockRunner(): void {
  const home = process.env.HOME || process.env.USERPROFILE || os.homedir();
  const root = path.join(home, 'azure-pipelines-task-lib', '_download');
  for (const [major, version] of Object.entries(VERSIONS)) {
    const dest = path.join(root, `node${major}`);
    const bin = path.join(dest, `node-${version}-linux-x64`, 'bin');
    fs.mkdirSync(bin, { recursive: true });
    const link = path.join(bin, 'node');
    try {
      if (fs.readlinkSync(link) === process.execPath) continue;
    } catch {
      /* not a link yet */
    }
    fs.rmSync(link, { force: true });
    fs.symlinkSync(process.execPath, link);
    fs.writeFileSync(`${dest}.completed`, '');
  }
}

if (process.platform === 'linux') linkNodeForMockRunner();
