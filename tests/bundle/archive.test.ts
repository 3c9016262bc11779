/**
 * Issue 11, section 4: the archive front door in the built task, run as the agent runs it. A clean zip
 * (the seed's generated.zip, given relative to the sources directory as the agent roots filePath
 * inputs) lands with its manifest; every hostile archive fails with a message naming archiveFile and
 * the entry, and leaves the output directory byte-for-byte unchanged; a secret inside is a finding as
 * in a model's reply. No model, no network, no credentials.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { OUTPUTS } from '../../tasks/CodeSynthesis/src/core/contract';
import { agent, outcome, visibleOutput, type TaskRun } from '../support/agent-run';
import { crcOfZeros, deflatedZeros, gzipOfZeros, tar, zip } from '../support/archives';
import { fakeSecrets } from '../support/fake-secrets';
import { snapshotTree } from '../support/tree-snapshot';
import { useWorkDir } from '../support/work-dir';

const APP = 'import os\n\nPORT = int(os.environ.get("PORT", "8080"))\n';

function summaryText(run: TaskRun): string {
  const attach = agent
    .vsoCommands(run.stdout)
    .find((c) => c.command === 'task.addattachment' && c.properties.type === 'Distributedtask.Core.Summary');
  assert.ok(attach, 'a summary is attached');
  return fs.readFileSync(attach.message, 'utf8');
}

describe('bundle: the archive front door as the agent runs it', function () {
  this.timeout(60_000);
  before(function () {
    if (!fs.existsSync(agent.TASK_ENTRY))
      throw new Error(`${agent.TASK_ENTRY} is missing: run npm run build first`);
  });
  const dir = useWorkDir('cs-archive', { 'README.md': 'the repository\n' });
  const variables = () => ({ 'Agent.TempDirectory': dir.work, 'Build.SourcesDirectory': dir.out });

  /** Run provider 'archive' over `archiveFile` (as given to the agent) into the sources directory. */
  async function unpack(archiveFile: string, inputs: Record<string, string> = {}) {
    const run = await agent.runTask({
      inputs: { provider: 'archive', archiveFile, outputDirectory: dir.out, ...inputs },
      variables: variables(),
    });
    return { run, ...outcome(run) };
  }

  it('unpacks the seed generated.zip into the sources directory with its manifest: Succeeded, provider archive, its SHA-256', async () => {
    const bytes = zip([
      { name: 'weather/app.py', data: APP },
      { name: 'weather/', data: '' },
      { name: 'weather\\requirements.txt', data: 'flask==3.0.3\n' },
    ]);
    fs.writeFileSync(path.join(dir.out, 'generated.zip'), bytes);
    // Relative: the agent roots a filePath input at the sources directory.
    const { run, result, message, outputs } = await unpack('generated.zip');

    assert.equal(result, 'Succeeded', `${message}\n${run.stdout}`);
    assert.equal(fs.readFileSync(path.join(dir.out, 'weather', 'app.py'), 'utf8'), APP);
    assert.equal(
      fs.readFileSync(path.join(dir.out, 'weather', 'requirements.txt'), 'utf8'),
      'flask==3.0.3\n',
    );
    assert.equal(fs.readFileSync(path.join(dir.out, 'README.md'), 'utf8'), 'the repository\n');
    assert.match(visibleOutput(run), /Unpacking the archive ".*generated\.zip": no model is called\./);

    const manifestPath = path.join(dir.out, '.synthesis', 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    assert.deepEqual(manifest.model, {
      provider: 'archive',
      deployment: 'generated.zip',
      archive: { file: path.join(dir.out, 'generated.zip'), format: 'zip', sha256, bytes: bytes.length },
      model: 'archive',
      replyId: `archive-${sha256.slice(0, 12)}`,
      finishReason: 'stop',
    });
    assert.equal(manifest.intent.source, 'archive');
    assert.equal(manifest.intent.file, path.join(dir.out, 'generated.zip'));
    assert.deepEqual(manifest.calls, [], 'no model call');
    assert.equal(manifest.prompt, undefined, 'no prompt was sent');
    assert.equal(fs.existsSync(path.join(dir.out, '.synthesis', 'prompts')), false, 'no prompt record');
    assert.deepEqual(
      manifest.files.map((f: { path: string; action: string; sha256: string }) => [f.path, f.action]),
      [
        ['weather/app.py', 'created'],
        ['weather/requirements.txt', 'created'],
      ],
    );
    assert.equal(manifest.files[0].sha256, createHash('sha256').update(APP).digest('hex'));

    assert.equal(outputs[OUTPUTS.filesWritten], '2');
    assert.equal(outputs[OUTPUTS.manifestPath], manifestPath);
    assert.equal(outputs[OUTPUTS.promptTokens], '0');
    assert.equal(outputs[OUTPUTS.serviceName], '');
    const summary = summaryText(run);
    assert.ok(summary.includes(`SHA-256 \`${sha256}\`); no model was called`), summary);
    assert.match(summary, /\| weather\/app\.py \| \d+ \| created \|/);
  });

  it('without archiveFile (the agent passes the sources directory for an empty one), fails naming it', async () => {
    const before = snapshotTree(dir.out);
    const { result, message } = await unpack('');
    assert.equal(result, 'Failed');
    assert.match(message ?? '', /^Input 'archiveFile': a value is required for provider 'archive'/);
    assert.deepEqual(snapshotTree(dir.out), before);
  });

  /** Hostile archives: each is refused naming archiveFile and the entry; nothing changes in the sources. */
  const hostile: [name: string, bytes: () => Promise<Buffer> | Buffer, says: RegExp][] = [
    [
      'zip-slip',
      () =>
        zip([
          { name: 'ok.txt', data: 'x' },
          { name: 'weather/../../../outside.txt', data: 'x' },
        ]),
      /"weather\/\.\.\/\.\.\/\.\.\/outside\.txt": climbs out of the output directory with '\.\.' \(zip-slip\)/,
    ],
    [
      'an absolute name',
      () => tar([{ header: { name: '/etc/cron.d/job' }, data: 'x' }]),
      /"\/etc\/cron\.d\/job": is an absolute path; entries must be relative/,
    ],
    [
      'a symbolic link (zip, Unix mode)',
      () => zip([{ name: 'link', data: '/etc/passwd', unixMode: 0o120777 }]),
      /"link": is a symbolic link; links are never unpacked/,
    ],
    [
      'a symbolic link, then a file written through it (tar)',
      () =>
        tar([
          { header: { name: 'up', type: 'symlink', linkname: '..' } },
          { header: { name: 'up/outside.txt' }, data: 'x' },
        ]),
      /"up": is a symbolic link to "\.\."; links are never unpacked/,
    ],
    [
      'a hard link',
      () => tar([{ header: { name: 'passwd', type: 'link', linkname: '/etc/passwd' } }]),
      /"passwd": is a hard link to "\/etc\/passwd"; links are never unpacked/,
    ],
    [
      'a device file',
      () => tar([{ header: { name: 'tty', type: 'character-device', devmajor: 4, devminor: 1 } }]),
      /"tty": is a device file/,
    ],
    [
      'duplicate names',
      () =>
        zip([
          { name: 'app.py', data: 'print(1)\n' },
          { name: 'APP.py', data: 'print(2)\n' },
        ]),
      /"APP\.py": differs only in letter case or Unicode form from "app\.py"/,
    ],
    [
      'a decompression bomb: a zip entry inflating past its declared size',
      () =>
        zip([{ name: 'zeros.txt', stored: deflatedZeros(256), declaredSize: 1024, crc: crcOfZeros(256) }]),
      /"zeros\.txt": unpacks to more than the 1024 bytes its header declares \(stopped after \d+\): a decompression bomb/,
    ],
    [
      // Stopped while gunzipping: at the ratio, or at the size cap when zlib has taken in the whole
      // compressed input by then (Node 24's zlib reads larger chunks than Node 20's).
      'a decompression bomb: a tar.gz of zeros, stopped while gunzipping',
      () => gzipOfZeros(512),
      /the compressed tar unpacks to (\d+ bytes from \d+ compressed bytes, more than 100:1|more than \d+ bytes, more than files within maxTotalSizeKB and maxFiles need): a decompression bomb/,
    ],
  ];
  for (const [name, bytes, says] of hostile) {
    it(`refuses ${name}: names archiveFile and the entry, the output directory unchanged`, async () => {
      const archive = path.join(dir.work, 'hostile.bin');
      fs.writeFileSync(archive, await bytes());
      const before = snapshotTree(dir.out);
      const started = Date.now();
      const { run, result, message } = await unpack(archive);
      assert.equal(result, 'Failed', run.stdout);
      assert.ok(
        message?.startsWith(
          `The archive ${JSON.stringify(archive)} (input 'archiveFile') cannot be unpacked:`,
        ),
        message,
      );
      assert.match(message ?? '', says);
      assert.match(message ?? '', /Nothing was written/);
      assert.deepEqual(snapshotTree(dir.out), before, 'the output directory is byte-for-byte unchanged');
      assert.ok(Date.now() - started < 20_000, 'refused without unpacking everything');
    });
  }

  it('a secret inside the archive is a finding as in a model reply: Failed, the issue at its line, nothing written', async () => {
    const token = fakeSecrets(11).githubToken;
    const archive = path.join(dir.work, 'generated.tgz');
    fs.writeFileSync(
      archive,
      gzipSync(
        await tar([
          { header: { name: 'svc/app.py' }, data: APP },
          { header: { name: 'svc/settings.py' }, data: `import os\nGITHUB_TOKEN = "${token}"\n` },
        ]),
      ),
    );
    const before = snapshotTree(dir.out);
    const { run, result, message } = await unpack(archive);
    assert.equal(result, 'Failed', run.stdout);
    // The agent's logging commands carry line breaks as %0A.
    assert.match(
      message ?? '',
      /finding\(s\) of severity error, so nothing was written:%0A {2}- "svc\/settings\.py":2 secretlint\/github\./,
    );
    const issue = agent
      .vsoCommands(run.stdout)
      .find((c) => c.command === 'task.logissue' && c.properties.sourcepath === 'svc/settings.py');
    assert.equal(issue?.properties.linenumber, '2');
    assert.deepEqual(snapshotTree(dir.out), before);
    assert.ok(!visibleOutput(run).includes(token.slice(4)), 'the secret is never printed');
  });
});
