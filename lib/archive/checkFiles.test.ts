import { describe, expect, it } from 'vitest';
import { checkedFilesError, classifyNames, isVendoredPackage, MAX_GO_MOD, MAX_LICENSE, MAX_ZIP_FILE, SizeChecker, type NamedFile } from './checkFiles.js';

const f = (path: string, kind: NamedFile['kind'] = 'file'): NamedFile => ({ path, kind });

describe('isVendoredPackage (x/mod v0.22)', () => {
  it.each([
    ['vendor/modules.txt', '', false],
    ['vendor/modules.txt', '1.24', true],
    ['vendor/README', '1.21', false],
    ['vendor/x/y.go', '', true],
    ['sub/vendor/file.txt', '1.21', true], // the pre-1.24 offset bug
    ['sub/vendor/file.txt', '1.24', false],
    ['sub/vendor/x/x.go', '1.24', true],
    ['vendorX/a.go', '', false],
    ['myvendor/a.go', '1.24', false],
    ['a/b/vendor/c/d.go', '1.25', true],
  ])('%s with go %s → %s', (name, go, want) => {
    expect(isVendoredPackage(name, go)).toBe(want);
  });
});

describe('classifyNames', () => {
  it('omits nested modules (any case of go.mod, regular files only) and root .hg_archival.txt', () => {
    const r = classifyNames(
      [f('go.mod'), f('sub/go.mod'), f('sub/x.go'), f('n2/GO.MOD'), f('n2/y.go'), f('ln/go.mod', 'symlink'), f('ln/z.go'), f('.hg_archival.txt'), f('d/.hg_archival.txt')],
      '',
    );
    expect(r.candidates.map((c) => c.path)).toEqual(['go.mod', 'ln/z.go', 'd/.hg_archival.txt']);
    expect(r.omitted).toEqual([
      { path: 'sub/go.mod', message: 'file is in another module' },
      { path: 'sub/x.go', message: 'file is in another module' },
      { path: 'n2/GO.MOD', message: 'file is in another module' },
      { path: 'n2/y.go', message: 'file is in another module' },
      { path: 'ln/go.mod', message: 'file is a symbolic link' },
      { path: '.hg_archival.txt', message: "file is inserted by 'hg archive' and is always omitted" },
    ]);
  });

  it('reports invalid names with x/mod texts, and collisions before symlinks', () => {
    const r = classifyNames([f('a:b.go'), f('GO.MOD'), f('README'), f('readme', 'symlink'), f('Foo/a.go'), f('foo'), f('dir/K.txt'), f('dir/\u212a.txt')], '');
    expect(r.invalid).toEqual([
      { path: 'a:b.go', message: 'malformed file path "a:b.go": invalid char \':\'' },
      { path: 'GO.MOD', message: 'go.mod files must have lowercase names' },
      { path: 'readme', message: 'case-insensitive file name collision: "README" and "readme"' },
      { path: 'foo', message: 'case-insensitive file name collision: "Foo" and "foo"' },
      { path: 'dir/\u212a.txt', message: 'case-insensitive file name collision: "dir/K.txt" and "dir/\u212a.txt"' },
    ]);
  });
});

describe('size checks', () => {
  it('caps go.mod and LICENSE at the root only, and the total', () => {
    const s = new SizeChecker();
    expect(s.add('go.mod', MAX_GO_MOD + 1)).toBe(false);
    expect(s.add('sub/LICENSE', MAX_LICENSE + 1)).toBe(true);
    expect(s.add('LICENSE', MAX_LICENSE)).toBe(true);
    expect(s.sizeError).toBeUndefined();
    expect(s.add('big', MAX_ZIP_FILE)).toBe(true);
    expect(s.sizeError).toBe('module source tree too large (max size is 524288000 bytes)');
    expect(checkedFilesError(s.sizeError, s.invalid)).toBe(s.sizeError);
    expect(checkedFilesError(undefined, s.invalid)).toBe('go.mod: go.mod file too large (max size is 16777216 bytes)');
  });
});
