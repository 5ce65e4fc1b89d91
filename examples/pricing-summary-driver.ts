/**
 * A driver script for the DataFrame example: writes a generated `lineitem` Parquet file with
 * DuckDB on the driver (or uses the one given), then runs pricing-summary.ts over it.
 *
 *   stratus run examples/pricing-summary-driver.ts --param rows=200000
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineDriverScript } from 'stratus/driver';
import { writeLineitemParquet } from './lib/lineitem-parquet.js';
import pricingSummary from './pricing-summary.js';

export default defineDriverScript(async (driver, p: { rows?: number; lineitem?: string }) => {
  if (p.lineitem) return driver.run(pricingSummary, { lineitem: p.lineitem });
  const dir = await mkdtemp(path.join(tmpdir(), 'stratus-lineitem-'));
  try {
    // Two files, so the scan has two partitions (one per Parquet file).
    const rows = p.rows ?? 100_000;
    await writeLineitemParquet(path.join(dir, 'lineitem-0.parquet'), Math.ceil(rows / 2));
    await writeLineitemParquet(path.join(dir, 'lineitem-1.parquet'), Math.floor(rows / 2));
    return await driver.run(pricingSummary, { lineitem: path.join(dir, 'lineitem-*.parquet') });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
