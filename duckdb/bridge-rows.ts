/**
 * The rows of the toDF bridge as the DuckDB task reads them: the [partition, values] records the
 * Dataset side's tasks checked against the schema (engine/sql/bridge.ts), decoded from its
 * segments as their bytes arrive and written as JSON Lines, one object per row keyed by column
 * name, a chunk's rows at a time. The task holds one chunk's bytes and rows, never the partition.
 */
import { open } from 'node:fs/promises';
import { getCodec } from '../engine/records/codec.js';
import type { StructField } from '../engine/sql/types.js';

/** One segment of the bridge exchange (one record-codec stream): its bytes whole, or as they arrive. */
export type RecordSegment = Uint8Array | AsyncIterable<Uint8Array>;

/**
 * Write the rows of `segments` (in order, each a stream of codec `codecName`) to `file` as JSON
 * Lines with exactly `columns`; returns the rows written.
 */
export async function writeBridgeRows(
  codecName: string,
  segments: Iterable<RecordSegment> | AsyncIterable<RecordSegment>,
  columns: readonly Pick<StructField, 'name'>[],
  file: string,
): Promise<number> {
  const codec = getCodec(codecName);
  const out = await open(file, 'w');
  let rows = 0;
  const write = async (records: readonly unknown[]) => {
    if (records.length === 0) return;
    let text = '';
    for (const record of records) {
      const r = (record as [number, unknown[]])[1];
      text += `${JSON.stringify(Object.fromEntries(columns.map((c, i) => [c.name, r[i] ?? null])))}\n`;
    }
    await out.appendFile(text);
    rows += records.length;
  };
  try {
    for await (const segment of segments) {
      const decoder = codec.decoder();
      const chunks = segment instanceof Uint8Array ? [segment] : segment;
      for await (const chunk of chunks) await write(decoder.push(chunk));
      await write(decoder.end());
    }
  } finally {
    await out.close();
  }
  return rows;
}
