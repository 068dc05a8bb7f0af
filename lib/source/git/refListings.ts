// One listing of a repository's refs serves every request for that repository
// that starts while it is in flight, and every request of the next few seconds
// (resolve.gitRefListingTtlSeconds). Without it each list, @latest and query
// request lists the refs itself: 500 concurrent requests for one repository
// made 538 requests to the git host.
//
// A reused listing may be a few seconds old. A request that finds no such
// revision in a reused listing asks for a fresh one before it says so
// (RemoteGitRepo.stat), so a tag pushed a moment ago is never answered "unknown
// revision" (which the service would then remember as not found).
import { ExpiringCache } from '../../util/expiringCache.js';
import { SingleFlight } from '../../util/singleflight.js';
import type { AdvertisedRef } from './objectStore.js';

export type RefTable = ReadonlyMap<string, AdvertisedRef>;

export interface RefListing {
  refs: RefTable;
  /** Listed before this request asked (kept from an earlier one), so possibly a few seconds old. */
  reused: boolean;
}

/** Where a per-request repository view gets its ref table. */
export interface RefSource {
  /** The ref table, possibly shared with other requests and a few seconds old. */
  list(): Promise<RefListing>;
  /** A ref table listed from now on (shared only with other callers of fresh listings meanwhile). */
  listFresh(): Promise<RefListing>;
}

export class RefListings {
  private readonly recent: ExpiringCache<RefTable>;
  private readonly flights = new SingleFlight<RefTable>();

  constructor(ttlMs: number, now: () => number = Date.now) {
    this.recent = new ExpiringCache(ttlMs, now);
  }

  /** The ref source of the repository `key` (its fetch URL), listed by `list`. */
  source(key: string, list: () => Promise<Map<string, AdvertisedRef>>): RefSource {
    return {
      list: async () => {
        const kept = this.recent.get(key);
        if (kept) return { refs: kept, reused: true };
        return { refs: await this.listing(`${key}`, key, list), reused: false };
      },
      listFresh: async () => ({ refs: await this.listing(`fresh ${key}`, key, list), reused: false }),
    };
  }

  private listing(flight: string, key: string, list: () => Promise<Map<string, AdvertisedRef>>): Promise<RefTable> {
    return this.flights.do(flight, async () => {
      const refs = await list();
      this.recent.set(key, refs);
      return refs;
    });
  }
}

/** A ref source that lists afresh for every request (no sharing). */
export function unsharedRefSource(list: () => Promise<Map<string, AdvertisedRef>>): RefSource {
  const fresh = async () => ({ refs: await list(), reused: false });
  return { list: fresh, listFresh: fresh };
}
