/**
 * The examples a new user starts from, run end to end on executors (2 × 2 slots) and
 * compared with plain-JS computations over the same data.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import componentsDriver from '../../examples/components-driver.js';
import { generateEdges, generateOrders, linksOfPage, seededRandom } from '../../examples/lib/generate.js';
import { writeLineitemParquet } from '../../examples/lib/lineitem-parquet.js';
import { generateTpch } from '../../examples/lib/tpch-gen.js';
import pagerankDriver from '../../examples/pagerank-driver.js';
import { checkNextKey, joinChecks, NO_KEYS, type OrderCheck, sortRecords } from '../../examples/sort.js';
import tpchDriver from '../../examples/tpch-driver.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';
import { expectSameRows, tpchReference } from '../helpers/tpch.js';
import { referenceRows } from '../sql/tpch-data.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');

let e2e: E2EFabric;
let dataDir: string;

beforeAll(async () => {
  e2e = await startE2E({ label: 'examples' });
  dataDir = await mkdtemp(path.join(tmpdir(), 'stratus-e2e-data-'));
});

afterAll(async () => {
  await e2e?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function wordsOf(line: string): string[] {
  return line
    .toLowerCase()
    .split(/[^\p{L}\p{N}']+/u)
    .filter((w) => w.length > 0);
}

describe('examples on executors', () => {
  it('word count over several files equals a plain-JS count', async () => {
    const random = seededRandom(11);
    const vocabulary = ['alpha', 'beta', 'gamma', 'delta', 'épsilon', 'zeta', "it's", 'eta', 'theta'];
    const files: string[] = [];
    for (let f = 0; f < 3; f++) {
      const lines: string[] = [];
      for (let l = 0; l < 400 + f * 100; l++) {
        const n = Math.floor(random() * 12);
        lines.push(
          Array.from({ length: n }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(
            random() < 0.5 ? ' ' : ', ',
          ),
        );
      }
      const file = path.join(dataDir, `words-${f}.txt`);
      await writeFile(file, lines.join(f === 1 ? '\r\n' : '\n'));
      files.push(lines.join('\n'));
    }
    const reference = new Map<string, number>();
    for (const text of files)
      for (const line of text.split('\n'))
        for (const w of wordsOf(line)) reference.set(w, (reference.get(w) ?? 0) + 1);
    const expectedTop = [...reference].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5);

    const result = await e2e.driver.run(path.join(EXAMPLES, 'wordcount.ts'), {
      input: path.join(dataDir, 'words-*.txt'),
      top: 5,
    });
    expect(result).toEqual({ top: expectedTop, distinct: reference.size });
  });

  it('join of orders and customers equals a plain-JS join', async () => {
    const orders = 800;
    const seed = 7;
    const result = (await e2e.driver.run(path.join(EXAMPLES, 'join.ts'), { orders, seed, top: 5 })) as {
      top: [string, number][];
      customers: number;
    };
    const data = generateOrders(orders, seed);
    const random = seededRandom(seed + 1);
    const names = new Map<number, string>();
    for (const key of [...new Set(data.orders.map((o) => o.customerKey))].sort((a, b) => a - b)) {
      names.set(key, `customer-${key}-${Math.floor(random() * 1000)}`);
    }
    const orderTotal = new Map<number, number>();
    for (const li of data.lineItems)
      orderTotal.set(li.orderKey, (orderTotal.get(li.orderKey) ?? 0) + li.extendedPrice);
    const spent = new Map<string, number>();
    for (const o of data.orders) {
      const total = orderTotal.get(o.orderKey);
      if (total === undefined) continue;
      const name = names.get(o.customerKey)!;
      spent.set(name, (spent.get(name) ?? 0) + total);
    }
    const expected = [...spent].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5);
    expect(result).toEqual({ top: expected, customers: spent.size });
  });

  it('a global sort runs a hidden sampling job and returns keys in order', async () => {
    e2e.events.clear();
    const records = 5000;
    const result = (await e2e.driver.run(path.join(EXAMPLES, 'sort.ts'), { records, partitions: 4 })) as {
      first: string[];
      count: number;
      ordered: OrderCheck;
    };
    const keys = sortRecords(records, 42)
      .map((r) => r.slice(0, 10))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(result).toEqual({
      first: keys.slice(0, 5),
      count: records,
      ordered: { sorted: true, records, firstKey: keys[0], lastKey: keys.at(-1) },
    });
    const jobs = e2e.events.of('job-start');
    expect(jobs.some((j) => j.hidden && /sampling/.test(j.reason ?? ''))).toBe(true);
  });

  it("the sort example's order check says false for keys out of order, within or across partitions", () => {
    const check = (keys: string[]) => keys.reduce(checkNextKey, { ...NO_KEYS });
    expect(check(['a', 'b', 'b', 'c']).sorted).toBe(true);
    expect(check(['a', 'c', 'b']).sorted).toBe(false);
    expect(joinChecks(check(['a', 'b']), check(['c', 'd'])).sorted).toBe(true);
    expect(joinChecks(check(['a', 'c']), check(['b', 'd'])).sorted).toBe(false);
    expect(joinChecks(joinChecks(check(['a']), { ...NO_KEYS }), check(['b']))).toEqual({
      sorted: true,
      records: 2,
      firstKey: 'a',
      lastKey: 'b',
    });
  });

  it('the order/line-item aggregation equals plain-JS sums', async () => {
    const result = (await e2e.driver.run(path.join(EXAMPLES, 'orders.ts'), { orders: 1000, seed: 5 })) as {
      pricing: [string, number[]][];
      revenueByStatus: [string, number][];
      lineItems: number;
    };
    const data = generateOrders(1000, 5);
    const pricing = new Map<string, number[]>();
    for (const li of data.lineItems) {
      const row = pricing.get(li.returnFlag) ?? [0, 0, 0, 0];
      row[0]! += 1;
      row[1]! += li.quantity;
      row[2]! += li.extendedPrice;
      row[3]! += li.extendedPrice * (100 - li.discount);
      pricing.set(li.returnFlag, row);
    }
    const status = new Map(data.orders.map((o) => [o.orderKey, o.status]));
    const revenue = new Map<string, number>();
    for (const li of data.lineItems) {
      const s = status.get(li.orderKey)!;
      revenue.set(s, (revenue.get(s) ?? 0) + li.extendedPrice * (100 - li.discount));
    }
    const byKey = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : 1);
    expect(result).toEqual({
      pricing: [...pricing].sort(byKey),
      revenueByStatus: [...revenue].sort(byKey),
      lineItems: data.lineItems.length,
    });
  });

  it('the PageRank driver script converges to the plain-JS ranks, ranks never leaving the executors', async () => {
    const pages = 40;
    const tolerance = 1e-3;
    const partitions = 3;
    e2e.events.clear();
    const result = await pagerankDriver.main(e2e.driver, { pages, tolerance, maxIterations: 30, partitions });
    // Reference: Spark's example in plain JS over the same links (pages without in-links drop out).
    const links = new Map<number, number[]>();
    for (let page = 0; page < pages; page++) {
      const targets = linksOfPage(page, pages, 8, 3);
      if (targets.length > 0) links.set(page, targets);
    }
    let ranks = new Map<number, number>([...links.keys()].map((p) => [p, 1]));
    let iterations = 0;
    for (let i = 1; i <= 30; i++) {
      const sums = new Map<number, number>();
      for (const [page, targets] of links) {
        const rank = ranks.get(page);
        if (rank === undefined) continue;
        for (const t of targets) sums.set(t, (sums.get(t) ?? 0) + rank / targets.length);
      }
      const next = new Map([...sums].map(([p, s]) => [p, 0.15 + 0.85 * s]));
      const change = Math.max(0, ...[...next].map(([p, r]) => Math.abs(r - (ranks.get(p) ?? 1))));
      ranks = next;
      iterations = i;
      if (change < tolerance) break;
    }
    expect(result.iterations).toBe(iterations);
    expect(result.converged).toBe(true);
    expect(result.pages).toBe(links.size);
    const expectedTop = [...ranks].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, 10);
    expect(result.top.map(([p]) => p)).toEqual(expectedTop.map(([p]) => p));
    // Sums of the same floats in a different order may differ in the last bits.
    for (const [i, [, rank]] of result.top.entries()) expect(rank).toBeCloseTo(expectedTop[i]![1], 9);
    // Every job of the driver script is one application's; each iteration is one job that reads
    // both handles in place and shuffles once (the contributions): its last stage stores the new
    // ranks and compares them with the previous ones (a narrow join) for the change.
    const jobs = e2e.events.of('job-start');
    expect(new Set(jobs.map((j) => j.appId))).toEqual(new Set([e2e.driver.appId]));
    const steps = jobs.filter((j) => j.module === 'pagerank.ts');
    expect(steps).toHaveLength(iterations);
    for (const job of steps) {
      expect(job.plan).toContain('[handle]');
      expect(job.actionName).toBe('ranks');
      expect(job.stageIds).toHaveLength(2);
    }
  }, 300_000);

  it('the connected-components driver script finds the plain-JS components, in as many rounds', async () => {
    const params = { vertices: 300, edges: 220, seed: 5, partitions: 3, top: 200 };
    const result = await componentsDriver.main(e2e.driver, params);
    const edges = generateEdges(params.vertices, params.edges, params.seed);
    const neighbours = new Map<number, number[]>();
    for (const [a, b] of edges) {
      neighbours.set(a, [...(neighbours.get(a) ?? []), b]);
      neighbours.set(b, [...(neighbours.get(b) ?? []), a]);
    }
    // Reference: the same label propagation in plain JS, rounds counted until nothing changes.
    let labels = new Map([...neighbours.keys()].map((v) => [v, v]));
    let rounds = 0;
    for (let changed = true; changed; rounds++) {
      const next = new Map(labels);
      for (const [v, ns] of neighbours)
        for (const n of ns) next.set(n, Math.min(next.get(n)!, labels.get(v)!));
      changed = [...next].some(([v, l]) => l !== labels.get(v));
      labels = next;
    }
    const sizes = new Map<number, number>();
    for (const label of labels.values()) sizes.set(label, (sizes.get(label) ?? 0) + 1);
    const expected = [...sizes].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, params.top);
    expect(result.vertices).toBe(neighbours.size);
    expect(result.converged).toBe(true);
    expect(result.iterations).toBe(rounds);
    expect(result.largest).toEqual(expected);
  }, 300_000);

  it('the DataFrame pricing summary over generated Parquet equals single-process DuckDB', async () => {
    const file = path.join(dataDir, 'lineitem.parquet');
    await writeLineitemParquet(file, 5000);
    const result = (await e2e.driver.run(path.join(EXAMPLES, 'pricing-summary.ts'), { lineitem: file })) as {
      lineItems: number;
      revenue: { revenue: number };
      pricingSummary: string;
      schema: string;
      plan: string;
    };
    expect(result.lineItems).toBe(5000);
    const [revenue] = await referenceRows(
      `SELECT sum(l_extendedprice * l_discount) AS revenue FROM read_parquet('${file}') WHERE l_shipdate >= DATE '1994-01-01'
        AND l_shipdate < DATE '1995-01-01' AND l_discount BETWEEN 0.05 AND 0.07 AND l_quantity < 24`,
    );
    expect(result.revenue).toEqual(revenue);
    const groups = await referenceRows(
      `SELECT l_returnflag, l_linestatus, count(*) AS n FROM read_parquet('${file}') WHERE l_shipdate <= DATE '1998-09-02' GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    // One table line per group, in order, with its count last.
    const lines = result.pricingSummary.split('\n').filter((l) => /^\|\s+[ANR]\|/.test(l));
    expect(lines.map((l) => l.split('|').map((c) => c.trim()))).toEqual(
      groups.map((g) => [
        '',
        g.l_returnflag,
        g.l_linestatus,
        ...Array(7).fill(expect.any(String)),
        String(g.n),
        '',
      ]),
    );
    expect(result.schema).toContain(' |-- l_shipdate: date (nullable = true)');
    expect(result.plan).toContain('hash exchange into');
  });

  it('the TPC-H driver script generates the tables and runs Q3 and Q5, equal single-process DuckDB', async () => {
    const dir = path.join(dataDir, 'tpch');
    const result = (await tpchDriver.main(e2e.driver, { scale: 0.005, dir })) as Record<
      string,
      Record<string, unknown>[]
    >;
    expect(Object.keys(result).sort()).toEqual(['q3', 'q5']);
    const data = await generateTpch({ dir, scale: 0.005 }); // reuses the driver's generation
    for (const q of ['q3', 'q5'] as const) {
      const expected = await tpchReference(q, data);
      expect(expected.length).toBeGreaterThan(0);
      expectSameRows(q, result[q], expected);
    }
  }, 180_000);
});
