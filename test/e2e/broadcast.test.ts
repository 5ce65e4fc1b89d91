/**
 * Broadcast values on real executors: the driver computes each value, ships it once per run
 * as a blob, and every task reads that value — not the one its executor's rebuild computed.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateOrders } from '../../examples/lib/generate.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';

const JOBS = path.resolve(import.meta.dirname, 'jobs');

let e2e: E2EFabric;

beforeAll(async () => {
  e2e = await startE2E({ label: 'broadcast' });
});

afterAll(async () => {
  await e2e?.close();
});

describe('broadcast values on executors', () => {
  it("tasks read the driver's value even where the executor's rebuild computes another", async () => {
    const n = 50;
    const result = await e2e.driver.run(path.join(JOBS, 'broadcast-origin.ts'), { n });
    expect(result).toEqual({
      scaled: Array.from({ length: n }, (_, i) => i * 3),
      seenBy: ['driver'],
    });
  });

  it('a broadcast lookup table used in a map (a map-side join) equals a plain-JS join', async () => {
    const params = { orders: 600, seed: 4, partitions: 4 };
    const result = (await e2e.driver.run(path.join(JOBS, 'broadcast-join.ts'), params)) as [string, number][];
    const data = generateOrders(params.orders, params.seed);
    const status = new Map(data.orders.map((o) => [o.orderKey, o.status]));
    const expected = new Map<string, number>();
    for (const li of data.lineItems) {
      const s = status.get(li.orderKey)!;
      expected.set(s, (expected.get(s) ?? 0) + li.extendedPrice * (100 - li.discount));
    }
    expect(new Map(result)).toEqual(expected);
  });

  it('a broadcast value the record codec cannot carry fails the run before any task, naming the broadcast', async () => {
    e2e.events.clear();
    const error = await e2e.driver
      .run(path.join(JOBS, 'broadcast-class.ts'), {})
      .catch((e: unknown) => e as { code?: string; message: string });
    expect(error).toMatchObject({ code: 'BROADCAST_NOT_ENCODABLE' });
    expect((error as Error).message).toContain(
      'broadcast 0: its value cannot be shipped to executors: value.table: an instance of Table',
    );
    expect(e2e.events.of('job-start')).toHaveLength(0);
  });
});
