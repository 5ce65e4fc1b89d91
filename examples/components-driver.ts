/**
 * Connected components of an undirected graph, iterated until no label changes: a driver script
 * in Spark's shape. The edge list is `input`, or a random graph the script first writes to a file
 * (`vertices`, `edges`, `seed`). Labels stay in Blob Storage between rounds as dataset handles;
 * each round returns only how many labels changed.
 *
 *   stratus run examples/components-driver.ts --param vertices=2000 --param edges=1500
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineDriverScript } from 'stratus/driver';
import components from './components.js';
import componentsGraph from './components-graph.js';
import componentsSummary from './components-summary.js';
import { generateEdges } from './lib/generate.js';

export interface ComponentsDriverParams {
  /** Edge list, `a b` per line; without it a random graph is generated to a temporary file. */
  input?: string;
  vertices?: number;
  edges?: number;
  seed?: number;
  partitions?: number;
  maxIterations?: number;
  /** How many components to return, largest first (default 10). */
  top?: number;
}

export default defineDriverScript(async (driver, p: ComponentsDriverParams) => {
  const partitions = p.partitions ?? driver.totalSlots;
  const dir = p.input === undefined ? await mkdtemp(path.join(tmpdir(), 'stratus-components-')) : undefined;
  try {
    let input = p.input;
    if (input === undefined) {
      input = path.join(dir!, 'edges.txt');
      const edges = generateEdges(p.vertices ?? 2000, p.edges ?? 1500, p.seed ?? 7);
      await writeFile(input, `${edges.map(([a, b]) => `${a} ${b}`).join('\n')}\n`);
    }
    const made = await driver.run(componentsGraph, { input, partitions });
    let labels = made.labels;
    let iterations = 0;
    let changed = Number.POSITIVE_INFINITY;
    while (changed > 0 && iterations < (p.maxIterations ?? 100)) {
      const round = await driver.run(components, { graph: made.graph, labels, partitions });
      labels = round.labels;
      changed = round.changed;
      iterations++;
      process.stderr.write(`components: round ${iterations}, ${changed} labels changed\n`);
    }
    const largest = await driver.run(componentsSummary, { labels, n: p.top ?? 10 });
    return { iterations, converged: changed === 0, vertices: made.graph.records, largest };
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
});
