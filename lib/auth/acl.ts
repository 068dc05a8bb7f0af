// Access control lists as the seed project defines them: ordered entries,
// first match wins, no match denies. An entry matches an identity if it names
// it (or names none) and a module if its regexp matches the *decoded* module
// path (or it has none).
//
// Regexps match case-insensitively: GitHub resolves repository names without
// regard to case, so github.com/acme/Secret (requested as .../!secret) reaches
// the same repository as github.com/acme/secret and must meet the same rule.
export interface AclEntry {
  identities?: string[];
  moduleRegexp?: string;
  access: 'allow' | 'deny';
}

export class Acl {
  private readonly entries: Array<{ identities?: Set<string>; re?: RegExp; allow: boolean }>;

  constructor(entries: AclEntry[]) {
    this.entries = entries.map((e) => ({
      identities: e.identities ? new Set(e.identities) : undefined,
      re: e.moduleRegexp !== undefined ? new RegExp(e.moduleRegexp, 'iu') : undefined,
      allow: e.access === 'allow',
    }));
  }

  /** Whether `identity` may read `modulePath` (undefined: an endpoint that names no module). */
  allows(identity: string, modulePath: string | undefined): boolean {
    for (const e of this.entries) {
      if (e.identities && !e.identities.has(identity)) continue;
      if (e.re && (modulePath === undefined || !e.re.test(modulePath))) continue;
      return e.allow;
    }
    return false;
  }
}
