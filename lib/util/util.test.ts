import { expect, it } from 'vitest';
import { Limiter } from './limiter.js';
import { SingleFlight } from './singleflight.js';

it('singleflight shares one call per key while it runs', async () => {
  const sf = new SingleFlight<number>();
  let calls = 0;
  const slow = () => new Promise<number>((r) => setTimeout(() => r(++calls), 20));
  const [a, b, c] = await Promise.all([sf.do('k', slow), sf.do('k', slow), sf.do('other', slow)]);
  expect(a).toBe(b);
  expect(calls).toBe(2);
  expect(c).not.toBe(a);
  expect(await sf.do('k', slow)).toBe(3);
  expect(sf.size).toBe(0);
});

it('limiter runs at most N at once, in order', async () => {
  const lim = new Limiter(2);
  let active = 0;
  let peak = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      lim.run(async () => {
        active++;
        peak = Math.max(peak, active);
        order.push(i);
        await new Promise((r) => setTimeout(r, 5));
        active--;
      }),
    ),
  );
  expect(peak).toBe(2);
  expect(order).toEqual([0, 1, 2, 3, 4, 5]);
});
