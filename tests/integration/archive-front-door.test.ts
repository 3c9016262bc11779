/**
 * Issue 11, section 4, acceptance: an archive goes through the same path checks, limits, scan and
 * manifest as a model reply. Hostile archives leave the output directory unchanged; a clean one lands
 * with its manifest. The use case runs as it is, with settings for provider 'archive', the
 * ArchiveModelClient as its model, the real FsTreeStore and secretlint (tests/bundle/archive.test.ts
 * runs the same through compose, as the agent does).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FsTreeStore } from '../../tasks/CodeSynthesis/src/adapters/fs/tree-store';
import {
  ArchiveModelClient,
  DEFAULT_MAX_RATIO,
} from '../../tasks/CodeSynthesis/src/adapters/model/archive-model-client';
import { createSecretlintScanner } from '../../tasks/CodeSynthesis/src/adapters/scan/secretlint-scanner';
import { MANIFEST_PATH } from '../../tasks/CodeSynthesis/src/core/contract';
import {
  ArchiveError,
  FindingsError,
  PathError,
  type SynthesisError,
} from '../../tasks/CodeSynthesis/src/core/errors';
import { parseSettings, type Settings } from '../../tasks/CodeSynthesis/src/core/settings';
import { synthesize, type SynthesisPorts } from '../../tasks/CodeSynthesis/src/core/synthesize';
import { FakeHost, MemoryFiles } from '../fakes/ports';
import { crcOfZeros, deflatedZeros, tar, zip } from '../support/archives';
import { fakeSecrets } from '../support/fake-secrets';
import { snapshotTree } from '../support/tree-snapshot';

describe('the archive front door (synthesize with ArchiveModelClient, real tree store and scan)', function () {
  let work: string;
  let out: string;
  beforeEach(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'archive-door-'));
    out = path.join(work, 's');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'existing.txt'), 'kept as it was\n');
  });
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  function settings(archiveFile: string, intent?: string): Settings {
    return parseSettings({ provider: 'archive', archiveFile, outputDirectory: out, intent });
  }

  function ports(archive: string, s: Settings, host = new FakeHost()): SynthesisPorts {
    return {
      log: host,
      reader: new MemoryFiles(),
      tree: new FsTreeStore(out, { log: host }),
      clock: { now: () => new Date('2026-11-29T12:00:00Z') },
      signal: host.signal,
      version: '1.0.0',
      connectModel: (_intent, signal) =>
        ArchiveModelClient.open(
          archive,
          { maxFiles: s.maxFiles, maxTotalBytes: s.maxTotalBytes, maxRatio: DEFAULT_MAX_RATIO },
          signal,
        ),
      secretScanner: async () => createSecretlintScanner(),
      report: host,
    };
  }

  async function unpack(bytes: Buffer, name = 'generated.zip', intent?: string) {
    const archive = path.join(work, name);
    fs.writeFileSync(archive, bytes);
    const s = settings(archive, intent);
    return { archive, result: await synthesize(s, ports(archive, s)) };
  }

  /** Run with a hostile archive: it must fail with `type`, leaving the work folder exactly as it was. */
  async function refused(
    bytes: Buffer,
    type: new (...args: never[]) => SynthesisError,
  ): Promise<SynthesisError> {
    const archive = path.join(work, 'hostile.bin');
    fs.writeFileSync(archive, bytes);
    const before = snapshotTree(work);
    const s = settings(archive);
    const error = await synthesize(s, ports(archive, s)).then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof type, String(error));
    assert.deepEqual(snapshotTree(work), before, 'the output directory and its parent are unchanged');
    return error;
  }

  it('lands a clean archive with its manifest: provider archive and the archive SHA-256', async () => {
    const bytes = zip([
      { name: 'weather/app.py', data: 'import os\nPORT = int(os.environ.get("PORT", "8080"))\n' },
      { name: 'weather/requirements.txt', data: 'flask==3.0.3\n' },
    ]);
    const { result } = await unpack(bytes);
    assert.equal(fs.readFileSync(path.join(out, 'weather/requirements.txt'), 'utf8'), 'flask==3.0.3\n');
    assert.equal(fs.readFileSync(path.join(out, 'existing.txt'), 'utf8'), 'kept as it was\n');
    const manifest = JSON.parse(fs.readFileSync(path.join(out, MANIFEST_PATH), 'utf8'));
    assert.deepEqual(manifest, JSON.parse(JSON.stringify(result.manifest)));
    assert.equal(manifest.model.provider, 'archive');
    assert.equal(manifest.model.archive.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(manifest.model.archive.format, 'zip');
    assert.equal(manifest.model.replyId, `archive-${manifest.model.archive.sha256.slice(0, 12)}`);
    assert.deepEqual(manifest.usage, { promptTokens: 0, completionTokens: 0 });
    assert.deepEqual(
      manifest.files.map((f: { path: string; action: string }) => `${f.action} ${f.path}`),
      ['created weather/app.py', 'created weather/requirements.txt'],
    );
    // Nothing was sent: no prompt record, no call, no prompt hash; the archive stands for the intent.
    assert.equal(fs.existsSync(path.join(out, '.synthesis', 'prompts')), false);
    assert.deepEqual(manifest.calls, []);
    assert.equal(manifest.prompt, undefined);
    assert.deepEqual(manifest.intent, {
      sha256: createHash('sha256').update('Files unpacked from "generated.zip".').digest('hex'),
      kind: 'text',
      source: 'archive',
      file: path.join(work, 'generated.zip'),
    });
  });

  it('records an intent given with the archive', async () => {
    const card = 'service:\n  name: weather\n  language: python\n  framework: flask\n';
    const { result } = await unpack(zip([{ name: 'weather/app.py', data: 'print(1)\n' }]), 'g.zip', card);
    assert.equal(result.manifest.intent.source, 'inline');
    assert.equal(result.manifest.intent.serviceName, 'weather');
    assert.equal(result.manifest.model.provider, 'archive');
  });

  it('names the archive, not a prompt, in the provenance headers', async () => {
    const archive = path.join(work, 'generated.zip');
    const bytes = zip([{ name: 'svc/app.py', data: 'print(1)\n' }]);
    fs.writeFileSync(archive, bytes);
    const s = { ...settings(archive), provenanceHeaders: true };
    await synthesize(s, ports(archive, s));
    const sha = createHash('sha256').update(bytes).digest('hex');
    assert.match(
      fs.readFileSync(path.join(out, 'svc/app.py'), 'utf8'),
      new RegExp(
        `^# Generated by CodeSynthesis 1\\.0\\.0 from intent sha256:[0-9a-f]{12}\\.\n# Unpacked from archive generated\\.zip sha256:${sha.slice(0, 12)}; no model\\.\nprint\\(1\\)\n$`,
      ),
    );
  });

  it('lands a clean tar.gz the same way', async () => {
    const bytes = gzipSync(
      await tar([{ header: { name: 'svc/main.go' }, data: 'package main\n\nfunc main() {}\n' }]),
    );
    await unpack(bytes, 'generated.tgz');
    assert.equal(fs.readFileSync(path.join(out, 'svc/main.go'), 'utf8'), 'package main\n\nfunc main() {}\n');
  });

  describe('leaves the output directory unchanged for a hostile archive', () => {
    it('zip-slip', async () => {
      await refused(
        zip([
          { name: '../outside.txt', data: 'x' },
          { name: 'ok.txt', data: 'x' },
        ]),
        ArchiveError,
      );
    });
    it('an absolute name', async () => {
      await refused(await tar([{ header: { name: '/tmp/x.txt' }, data: 'x' }]), ArchiveError);
    });
    it('a symlink, then a file written through it', async () => {
      await refused(
        await tar([
          { header: { name: 'link', type: 'symlink', linkname: '..' } },
          { header: { name: 'link/outside.txt' }, data: 'x' },
        ]),
        ArchiveError,
      );
    });
    it('a hard link and a device', async () => {
      await refused(
        await tar([
          { header: { name: 'hard', type: 'link', linkname: '/etc/passwd' } },
          { header: { name: 'dev', type: 'block-device' } },
        ]),
        ArchiveError,
      );
    });
    it('duplicate names', async () => {
      await refused(
        zip([
          { name: 'a.txt', data: '1' },
          { name: 'A.TXT', data: '2' },
        ]),
        ArchiveError,
      );
    });
    it('a decompression bomb', async () => {
      const bomb = zip([
        { name: 'zeros.txt', stored: deflatedZeros(256), declaredSize: 100, crc: crcOfZeros(256) },
      ]);
      await refused(bomb, ArchiveError);
    });
    it('names the path rules refuse, as for a model (protected paths, Windows device names)', async () => {
      const error = await refused(
        zip([
          { name: '.github/workflows/deploy.yml', data: 'on: push\n' },
          { name: 'CON.txt', data: 'x' },
        ]),
        PathError,
      );
      assert.equal((error as PathError).problems.length, 2);
    });
    it('a secret the scan finds, as for a model', async () => {
      const secret = `GITHUB_TOKEN = "${fakeSecrets().githubToken}"\n`;
      await refused(zip([{ name: 'config.py', data: secret }]), FindingsError);
    });
  });
});
