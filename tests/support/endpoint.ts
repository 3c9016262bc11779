import type { ServiceEndpoint } from '../../tasks/CodeSynthesis/src/core/intent';
import { parseRoute } from '../../tasks/CodeSynthesis/src/core/route';

/** A card endpoint as parseIntent builds it, for cards written by hand in tests. */
export function endpoint(method: string, path: string, description?: string): ServiceEndpoint {
  const { segments, problems } = parseRoute(path);
  if (problems.length) throw new Error(`test endpoint '${path}': ${problems.join(' ')}`);
  return { method, path, segments, ...(description === undefined ? {} : { description }) };
}
