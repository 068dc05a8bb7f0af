import { describe, expect, it } from 'vitest';
import type { AdvertisedRef } from './objectStore.js';
import { RefListings } from './refListings.js';

function lister() {
  const state = { calls: 0, fail: false, release: () => {} };
  const list = async (): Promise<Map<string, AdvertisedRef>> => {
    state.calls++;
    await new Promise<void>((resolve) => (state.release = resolve));
    if (state.fail) throw new Error('host down');
    return new Map([['HEAD', { oid: `c${state.calls}`, peeled: `c${state.calls}` }]]);
  };
  return { state, list };
}

describe('RefListings', () => {
  it('shares one listing among concurrent requests and reuses it until the time is up', async () => {
    let clock = 0;
    const listings = new RefListings(5_000, () => clock);
    const { state, list } = lister();
    const source = listings.source('https://h/r', list);
    const concurrent = Array.from({ length: 50 }, () => source.list());
    await Promise.resolve();
    state.release();
    const got = await Promise.all(concurrent);
    expect(state.calls).toBe(1);
    expect(new Set(got.map((g) => g.refs)).size).toBe(1);
    expect(got.every((g) => !g.reused)).toBe(true);

    clock += 4_999;
    const kept = await listings.source('https://h/r', list).list();
    expect([kept.reused, kept.refs, state.calls]).toEqual([true, got[0].refs, 1]);
    // Another repository has its own listing.
    const other = listings.source('https://h/other', list).list();
    await Promise.resolve();
    state.release();
    expect((await other).reused).toBe(false);
    expect(state.calls).toBe(2);

    clock += 1;
    const expired = source.list();
    await Promise.resolve();
    state.release();
    expect((await expired).reused).toBe(false);
    expect(state.calls).toBe(3);
  });

  it('lists afresh on demand, and the fresh listing is the one kept', async () => {
    const listings = new RefListings(5_000, () => 0);
    const { state, list } = lister();
    const source = listings.source('https://h/r', list);
    const first = source.list();
    await Promise.resolve();
    state.release();
    await first;
    const fresh = source.listFresh();
    await Promise.resolve();
    state.release();
    const f = await fresh;
    expect([f.reused, f.refs.get('HEAD')?.oid, state.calls]).toEqual([false, 'c2', 2]);
    expect((await source.list()).refs).toBe(f.refs);
  });

  it('keeps no failure, and with no reuse time shares only concurrent listings', async () => {
    const listings = new RefListings(0, () => 0);
    const { state, list } = lister();
    const source = listings.source('https://h/r', list);
    state.fail = true;
    const a = source.list();
    const b = source.list();
    await Promise.resolve();
    state.release();
    await expect(a).rejects.toThrow('host down');
    await expect(b).rejects.toThrow('host down');
    expect(state.calls).toBe(1);
    state.fail = false;
    const c = source.list();
    await Promise.resolve();
    state.release();
    expect((await c).reused).toBe(false);
    const d = source.list();
    await Promise.resolve();
    state.release();
    await d;
    expect(state.calls).toBe(3);
  });
});
