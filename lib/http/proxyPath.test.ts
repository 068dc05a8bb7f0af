import { describe, expect, it } from 'vitest';
import { BadRequestError, NotFoundError } from '../errors.js';
import { parseProxyPath } from './proxyPath.js';

describe('parseProxyPath', () => {
  it.each([
    ['/github.com/o/r/@v/list', { kind: 'list', modPath: 'github.com/o/r' }],
    ['/github.com/o/r/@latest', { kind: 'latest', modPath: 'github.com/o/r' }],
    ['/github.com/o/r/@v/v1.2.3.info', { kind: 'info', modPath: 'github.com/o/r', version: 'v1.2.3' }],
    ['/github.com/o/r/@v/main.info', { kind: 'info', modPath: 'github.com/o/r', version: 'main' }],
    ['/github.com/o/r/@v/feature/x.info', { kind: 'info', modPath: 'github.com/o/r', version: 'feature/x' }],
    ['/github.com/o/r/v2/@v/v2.0.0+incompatible.mod', { kind: 'mod', modPath: 'github.com/o/r/v2', version: 'v2.0.0+incompatible' }],
    // percent-decoding first, then !x case decoding (docs/go-rules/protocol.md#request-paths)
    ['/example.com/%21foo/%21bar/@v/v1.0.0-%21r%21c1.zip', { kind: 'zip', modPath: 'example.com/Foo/Bar', version: 'v1.0.0-RC1' }],
    ['/github.com/c/!camel!repo/@v/v1.0.0-!r!c1.info', { kind: 'info', modPath: 'github.com/c/CamelRepo', version: 'v1.0.0-RC1' }],
  ])('%s', (p, want) => {
    expect(parseProxyPath(p)).toEqual(want);
  });

  it.each(['/github.com/o/%2e%2e/@v/list', '/github.com/O/r/@v/list', '/github.com/o/!!r/@v/list', '/github.com/o/r/@v/v1%00.info', '/github.com/o/r/@v/%zz.info', '/x/@v/' + 'a'.repeat(3000) + '.info'])(
    'rejects %s with 400',
    (p) => {
      expect(() => parseProxyPath(p)).toThrow(BadRequestError);
    },
  );

  it.each(['/github.com/o/r/@v/v1.0.mod', '/github.com/o/r/@v/main.zip', '/github.com/o/r/@v/v1.0.0.tar', '/github.com/o/r'])('answers %s with not found', (p) => {
    expect(() => parseProxyPath(p)).toThrow(NotFoundError);
  });
});
