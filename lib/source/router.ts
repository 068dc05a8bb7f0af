// From a module path to its source. A path under a privateModules prefix (the
// longest matching one) is served from git and never goes anywhere else; any
// other path goes to the parent proxy when one is configured, and is not
// served otherwise. Sources for other kinds of path (discovered hosts) are
// added here, behind the same seam.
import type { PrivateModuleConfig } from '../config/schema.js';
import { NotFoundError } from '../errors.js';
import type { ModuleSource, SourceRouter } from './moduleSource.js';

/** Whether `modPath` is `prefix` or lies below it, element-wise (a trailing "/" on the prefix is ignored). */
function isUnderPrefix(modPath: string, prefix: string): boolean {
  const p = prefix.replace(/\/+$/, '');
  return modPath === p || modPath.startsWith(p + '/');
}

/** Whether a privateModules entry covers `modPath`: such a path never reaches a parent proxy or a checksum database. */
export function isPrivatePath(rules: readonly PrivateModuleConfig[], modPath: string): boolean {
  return rules.some((r) => isUnderPrefix(modPath, r.pathPrefix));
}

export class PrivateModulesRouter implements SourceRouter {
  constructor(
    private readonly rules: readonly PrivateModuleConfig[],
    private readonly open: (modPath: string, rule: PrivateModuleConfig) => ModuleSource | Promise<ModuleSource>,
    /** The source of every other path (a parent proxy), if any. */
    private readonly openPublic?: (modPath: string) => ModuleSource,
  ) {}

  /** The privateModules entry serving this module (longest prefix wins), if any. */
  ruleFor(modPath: string): PrivateModuleConfig | undefined {
    let best: PrivateModuleConfig | undefined;
    for (const r of this.rules) {
      if (isUnderPrefix(modPath, r.pathPrefix) && (!best || r.pathPrefix.length > best.pathPrefix.length)) best = r;
    }
    return best;
  }

  serves(modPath: string): boolean {
    return this.openPublic !== undefined || this.ruleFor(modPath) !== undefined;
  }

  async sourceFor(modPath: string): Promise<ModuleSource> {
    const rule = this.ruleFor(modPath);
    if (!rule && this.openPublic) return this.openPublic(modPath);
    if (!rule) throw new NotFoundError(`module ${modPath} is not served by this proxy (no privateModules pathPrefix matches)`);
    return this.open(modPath, rule);
  }
}
