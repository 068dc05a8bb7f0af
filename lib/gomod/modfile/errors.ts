// modfile.Error and modfile.ErrorList of golang.org/x/mod/modfile (declared
// in rule.go, x/mod v0.19.0): the errors of a failed parse, printed exactly
// as Go prints them. Both the parser (read.ts) and the directive rules
// (rule.ts) report through them, so they live apart from either.
import type { Position } from './read.js';
import { outText } from './text.js';

/** A modfile.Error: a problem at a position, printed as Go prints it. */
export interface ModFileProblem {
  line: number;
  lineRune: number;
  message: string;
}

/** modfile.ErrorList: the errors of a failed parse, one per line in message. */
export class ModFileError extends Error {
  override name = 'ModFileError';
  constructor(readonly problems: ModFileProblem[]) {
    super(problems.map((p) => p.message).join('\n'));
  }
}

/** The file name used in messages, as in ParseLax("go.mod", data, nil). */
export const FILENAME = 'go.mod';

/** modfile.Error.Error() */
export function formatError(pos: Position, verb: string, modPath: string, err: string): ModFileProblem {
  let prefix = `${FILENAME}: `;
  // The column is left out when it is 1, as it is for all but scanner errors.
  if (pos.lineRune > 1) prefix = `${FILENAME}:${pos.line}:${pos.lineRune}: `;
  else if (pos.line > 0) prefix = `${FILENAME}:${pos.line}: `;
  let directive = '';
  if (modPath !== '') directive = `${verb} ${modPath}: `;
  else if (verb !== '') directive = `${verb}: `;
  return { line: pos.line, lineRune: pos.lineRune, message: outText(prefix + directive + err) };
}
