import assert from 'node:assert/strict';
import { isolate, STRATEGIES } from '../../tasks/CodeSynthesis/src/adapters/validate/isolation';
import { windowsCommandLine } from '../../tasks/CodeSynthesis/src/adapters/validate/sandboxed-runner';

const command = ['bash', '-c', 'pytest'];
const env = { PATH: '/usr/bin:/bin', HOME: '/home/vsts' };
const id = { uid: 1001, gid: 118 };

describe('isolate (command lines)', () => {
  it('every unshare makes its own private mount namespace before binding anything read-only', () => {
    for (const strategy of ['unshare-user', 'unshare-root', 'sudo-unshare'] as const) {
      const { argv } = isolate(strategy, command, env, ['/work/s'], '/tmp/x', id);
      const unshare = argv.indexOf('unshare');
      const wrapper = argv.indexOf('sh');
      assert.ok(unshare >= 0 && wrapper > unshare, strategy);
      const flags = argv.slice(unshare, wrapper);
      for (const flag of ['--pid', '--mount', '--fork', '--mount-proc', '--kill-child'])
        assert.ok(flags.includes(flag), `${strategy}: ${flag}`);
      assert.equal(flags[flags.indexOf('--propagation') + 1], 'private', strategy);
      assert.deepEqual(
        argv.slice(wrapper + 3, wrapper + 6),
        ['code-synthesis-sandbox', '/work/s', '--'],
        strategy,
      );
    }
  });

  it('drops every capability and sets no_new_privs before the command', () => {
    for (const strategy of ['unshare-user', 'unshare-root', 'sudo-unshare'] as const) {
      const { argv } = isolate(strategy, command, env, [], '/tmp/x', id);
      const setpriv = argv.indexOf('setpriv');
      const flags = argv.slice(setpriv, argv.indexOf('--', setpriv));
      for (const flag of ['--no-new-privs', '--bounding-set=-all', '--inh-caps=-all'])
        assert.ok(flags.includes(flag), `${strategy}: ${flag}`);
      assert.deepEqual(argv.slice(-3), command, strategy);
    }
  });

  it('under sudo, goes back to the agent user and hands the environment to env -i (sudo resets it)', () => {
    const launch = isolate('sudo-unshare', command, env, [], '/tmp/x', id);
    assert.deepEqual(launch.argv.slice(0, 3), ['sudo', '-n', '--']);
    assert.ok(launch.argv.includes('--reuid=1001') && launch.argv.includes('--regid=118'));
    const envAt = launch.argv.indexOf('env');
    assert.deepEqual(launch.argv.slice(envAt, envAt + 4), [
      'env',
      '-i',
      'PATH=/usr/bin:/bin',
      'HOME=/home/vsts',
    ]);
    assert.deepEqual(launch.env, { PATH: '/usr/bin:/bin' });
  });

  it('bubblewrap gets a new PID namespace and /proc, the read-only binds and the working directory', () => {
    const { argv, env: given } = isolate('bwrap', command, env, ['/work/s'], '/tmp/x', id);
    assert.equal(argv[0], 'bwrap');
    for (const flag of ['--unshare-pid', '--die-with-parent']) assert.ok(argv.includes(flag), flag);
    assert.deepEqual(argv.slice(argv.indexOf('--proc'), argv.indexOf('--proc') + 2), ['--proc', '/proc']);
    assert.deepEqual(argv.slice(argv.indexOf('--ro-bind'), argv.indexOf('--ro-bind') + 3), [
      '--ro-bind',
      '/work/s',
      '/work/s',
    ]);
    assert.deepEqual(argv.slice(argv.indexOf('--chdir'), argv.indexOf('--chdir') + 2), ['--chdir', '/tmp/x']);
    assert.equal(given, env);
  });

  it('knows every strategy it lists', () => {
    for (const strategy of STRATEGIES)
      assert.ok(isolate(strategy, command, env, [], '/', id).argv.length > 3);
  });
});

describe('windowsCommandLine', () => {
  it('joins the lines with && so the first failing line stops it, as bash -e does', () => {
    assert.equal(windowsCommandLine('npm ci\r\n\r\n  npm test  \n'), 'npm ci && npm test');
  });
});
