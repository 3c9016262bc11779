import assert from 'node:assert/strict';
import {
  archiveFileName,
  archiveIntent,
  archiveReviewBranch,
} from '../../tasks/CodeSynthesis/src/core/archive';
import { branchNameProblem } from '../../tasks/CodeSynthesis/src/core/review';

describe('core/archive: what stands in for the intent with the archive provider', () => {
  it('names the archive by its file name, whichever separator the path uses', () => {
    assert.equal(archiveFileName('/home/vsts/work/1/a/generated.zip'), 'generated.zip');
    assert.equal(archiveFileName('D:\\a\\1\\a\\out.tar.gz'), 'out.tar.gz');
    assert.equal(archiveFileName('generated.zip'), 'generated.zip');
  });

  it('makes a free-text intent naming the archive, escaped', () => {
    assert.deepEqual(archiveIntent('/a/generated.zip'), {
      kind: 'text',
      text: 'Files unpacked from "generated.zip".',
    });
    assert.equal(archiveIntent('/a/x\u202e.zip').text, 'Files unpacked from "x\\u202e.zip".');
  });

  it('makes a valid, stable review branch from the file name without its archive extension', () => {
    const cases: [string, string][] = [
      ['/a/generated.zip', 'synthesis/archive-generated'],
      ['/a/svc.tar.gz', 'synthesis/archive-svc'],
      ['/a/svc.TGZ', 'synthesis/archive-svc'],
      ['/a/svc.tar', 'synthesis/archive-svc'],
      ['/a/my gen..v2.zip', 'synthesis/archive-my-gen.v2'],
      ['/a/.zip', 'synthesis/archive'],
    ];
    for (const [file, branch] of cases) {
      assert.equal(archiveReviewBranch(file), branch, file);
      assert.equal(branchNameProblem(branch), undefined, branch);
    }
  });
});
