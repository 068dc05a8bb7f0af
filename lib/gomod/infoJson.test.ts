import { expect, it } from 'vitest';
import { goJsonString, goTime, marshalInfo } from './infoJson.js';

it('marshals .info exactly as the go command writes it', () => {
  expect(marshalInfo({ Version: 'v1.0.0', Time: new Date('2021-03-03T20:06:07Z') })).toBe('{"Version":"v1.0.0","Time":"2021-03-03T20:06:07Z"}');
  expect(
    marshalInfo({
      Version: 'v0.0.0-20200101000000-abcdefabcdef',
      Time: new Date('2020-01-01T00:00:00Z'),
      Origin: { VCS: 'git', URL: 'https://github.com/o/r', Subdir: 'sub', Hash: 'a'.repeat(40), Ref: 'refs/heads/main' },
    }),
  ).toBe(`{"Version":"v0.0.0-20200101000000-abcdefabcdef","Time":"2020-01-01T00:00:00Z","Origin":{"VCS":"git","URL":"https://github.com/o/r","Subdir":"sub","Hash":"${'a'.repeat(40)}","Ref":"refs/heads/main"}}`);
});

it('escapes like encoding/json and trims sub-second zeros', () => {
  expect(goJsonString('a<b>&c\u2028')).toBe('"a\\u003cb\\u003e\\u0026c\\u2028"');
  expect(goTime(new Date('2020-01-01T00:00:00.500Z'))).toBe('2020-01-01T00:00:00.5Z');
});

it('writes a time Go already wrote (a parent’s zone and nanoseconds) as it is, and an empty Origin as {}', () => {
  expect(marshalInfo({ Version: 'v1.0.0', Time: '2020-01-01T01:00:00.123456789+01:00', Origin: { VCS: '', URL: '' } })).toBe(
    '{"Version":"v1.0.0","Time":"2020-01-01T01:00:00.123456789+01:00","Origin":{}}',
  );
});

