// From a module path to its source. Today: a path under a privateModules
// prefix (the longest matching one) is served from git; any other path is not
// served. Sources for other kinds of path (a parent proxy, discovered hosts)
// are added here, behind the same seam.
import type { PrivateModuleConfig } from '../config/schema.js';
import { NotFoundError } from '../errors.js';
import type { ModuleSource, SourceRouter } from './moduleSource.js';

/** Whether `modPath` is `prefix` or lies below it, element-wise (a trailing "/" on the prefix is ignored). */
function isUnderPrefix(modPath: string, prefix: string): boolean {
  const p = prefix.replace(/\/+$/, '');
  return modPath === p || modPath.startsWith(p + '/');
}

export class PrivateModulesRouter implements SourceRouter {
  constructor(
    private readonly rules: readonly PrivateModuleConfig[],
    private readonly open: (modPath: string, rule: PrivateModuleConfig) => ModuleSource,
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
    return this.ruleFor(modPath) !== undefined;
  }

  async sourceFor(modPath: string): Promise<ModuleSource> {
    const rule = this.ruleFor(modPath);
    if (!rule) throw new NotFoundError(`module ${modPath} is not served by this proxy (no privateModules pathPrefix matches)`);
    return this.open(modPath, rule);
  }
}
