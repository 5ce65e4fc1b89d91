/**
 * Writes a small sales table (with nulls, special characters and several partitions) in the
 * format, mode and partition columns given by params, then (a second run) reads it back.
 */
import { defineJob } from 'stratus';

export interface WriteFormatsParams {
  rows: unknown[][];
  output: string;
  format: 'parquet' | 'csv' | 'json';
  mode: string;
  partitionBy: string[];
  header?: boolean;
  compression?: string;
  slices?: number;
}

export const SCHEMA = 'id LONG, region STRING, day DATE, amount DOUBLE';

export default defineJob((ctx, p: WriteFormatsParams) => {
  let writer = ctx
    .createDataFrame(p.rows, SCHEMA, p.slices ?? 3)
    .write.mode(p.mode)
    .partitionBy(...p.partitionBy);
  if (p.header !== undefined) writer = writer.option('header', p.header);
  if (p.compression !== undefined) writer = writer.option('compression', p.compression);
  return p.format === 'csv'
    ? writer.csv(p.output)
    : p.format === 'json'
      ? writer.json(p.output)
      : writer.parquet(p.output);
});
