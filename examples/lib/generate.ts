/**
 * Deterministic data generators for the examples: the same seed gives the same records on
 * the driver and on every executor, which a job builder needs (builders must be deterministic).
 */

/** A small seeded pseudo-random generator (mulberry32): returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An order of the order/lineitem examples (TPC-H-like, much simplified). */
export interface Order {
  orderKey: number;
  customerKey: number;
  status: 'O' | 'F' | 'P';
  /** Days since 1992-01-01. */
  orderDay: number;
}

/** A line item of an order. */
export interface LineItem {
  orderKey: number;
  lineNumber: number;
  quantity: number;
  extendedPrice: number;
  discount: number;
  tax: number;
  returnFlag: 'A' | 'N' | 'R';
}

/** `orders` orders with 1–7 line items each, from `seed`. */
export function generateOrders(orders: number, seed: number): { orders: Order[]; lineItems: LineItem[] } {
  const random = seededRandom(seed);
  const out: Order[] = [];
  const items: LineItem[] = [];
  const statuses = ['O', 'F', 'P'] as const;
  const flags = ['A', 'N', 'R'] as const;
  for (let o = 1; o <= orders; o++) {
    out.push({
      orderKey: o,
      customerKey: 1 + Math.floor(random() * Math.max(1, orders / 10)),
      status: statuses[Math.floor(random() * 3)]!,
      orderDay: Math.floor(random() * 2400),
    });
    const lines = 1 + Math.floor(random() * 7);
    for (let l = 1; l <= lines; l++) {
      const quantity = 1 + Math.floor(random() * 50);
      items.push({
        orderKey: o,
        lineNumber: l,
        quantity,
        // Prices in cents keep sums exact.
        extendedPrice: quantity * (900 + Math.floor(random() * 100_000)),
        discount: Math.floor(random() * 11),
        tax: Math.floor(random() * 9),
        returnFlag: flags[Math.floor(random() * 3)]!,
      });
    }
  }
  return { orders: out, lineItems: items };
}

/** A random directed graph for PageRank: `nodes` pages, each linking to 1–`maxLinks` others. */
export function generateLinks(nodes: number, maxLinks: number, seed: number): [number, number][] {
  const random = seededRandom(seed);
  const edges: [number, number][] = [];
  for (let src = 0; src < nodes; src++) {
    const n = 1 + Math.floor(random() * maxLinks);
    const targets = new Set<number>();
    for (let i = 0; i < n; i++) {
      const dst = Math.floor(random() * nodes);
      if (dst !== src) targets.add(dst);
    }
    for (const dst of targets) edges.push([src, dst]);
  }
  return edges;
}

/**
 * The pages page `page` links to, among `pages` pages: 1–`maxLinks` distinct others, from a
 * generator seeded by (`seed`, `page`) — so any task can produce any page's links alone, in
 * any order, and a test can produce the same graph in plain JS.
 */
export function linksOfPage(page: number, pages: number, maxLinks: number, seed: number): number[] {
  const random = seededRandom((seed * 0x9e3779b1 + page * 0x85ebca6b) >>> 0);
  const n = 1 + Math.floor(random() * maxLinks);
  const targets = new Set<number>();
  for (let i = 0; i < n; i++) {
    const dst = Math.floor(random() * pages);
    if (dst !== page) targets.add(dst);
  }
  return [...targets];
}

/** `edges` undirected edges `[a, b]` (a ≠ b) among `vertices` vertices, from `seed`: a random graph of many components. */
export function generateEdges(vertices: number, edges: number, seed: number): [number, number][] {
  const random = seededRandom(seed);
  const out: [number, number][] = [];
  while (out.length < edges) {
    const a = Math.floor(random() * vertices);
    const b = Math.floor(random() * vertices);
    if (a !== b) out.push([a, b]);
  }
  return out;
}
