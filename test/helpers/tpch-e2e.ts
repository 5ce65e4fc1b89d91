/**
 * The DataFrame end-to-end files' common start: TPC-H-style lineitem (Parquet, 3 files) and
 * orders (CSV with a header, 2 files) written to a temp folder, and a local fabric of executor
 * processes on the suite's Azurite; `close` stops the fabric and removes the folder.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TPCH_TYPES, tpchRows, writeTable } from '../sql/tpch-data.js';
import { type E2EFabric, startE2E } from './e2e.js';

export interface TpchE2E {
  e2e: E2EFabric;
  dir: string;
  /** Globs of the tables' files. */
  lineitem: string;
  orders: string;
}

/** Write the tables (`scale`, `seed` as tpchRows takes them) and start the fabric named `label`. */
export async function startTpchE2E(label: string, scale: number, seed: number): Promise<TpchE2E> {
  const dir = await mkdtemp(path.join(tmpdir(), `stratus-e2e-${label}-`));
  const rows = tpchRows(scale, seed);
  const lineitem = await writeTable(dir, 'lineitem', rows.lineitem, TPCH_TYPES.lineitem, 'parquet', 3);
  const orders = await writeTable(dir, 'orders', rows.orders, TPCH_TYPES.orders, 'csv', 2);
  const e2e = await startE2E({ label });
  return { e2e, dir, lineitem, orders };
}

/** Stop what startTpchE2E started (either may be missing when it failed part way). */
export async function closeTpchE2E(started: Partial<TpchE2E>): Promise<void> {
  await started.e2e?.close();
  if (started.dir) await rm(started.dir, { recursive: true, force: true });
}

/** The reference's scan of the orders CSV files, typed as the jobs read them. */
export function ordersCsv(glob: string): string {
  const types = Object.entries(TPCH_TYPES.orders)
    .map(([c, t]) => `'${c}': '${t}'`)
    .join(', ');
  return `read_csv('${glob}', header = true, columns = {${types}})`;
}
