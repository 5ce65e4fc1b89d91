/**
 * A job whose failures quote its secrets, for the redaction tests: the builder (on the driver) or
 * a task (on an executor) prints and throws the storage connection string and the signing key
 * its environment holds, or it reads an input given as a parameter (a CSV with bad records, a
 * blob URL). The executor has AzureWebJobsStorage, a driver STRATUS_CONNECTION.
 */
import { defineJob } from 'stratus';

const connection = () => process.env.AzureWebJobsStorage ?? process.env.STRATUS_CONNECTION ?? '';
const signingKey = () => process.env.STRATUS_SIGNING_KEY ?? '';

export interface LeakyParams {
  mode: 'builder' | 'user' | 'csv' | 'blob';
  input?: string;
  /** CSV: skip and count bad records (the count's name quotes the input's URL) instead of failing. */
  skip?: boolean;
}

export default defineJob((ctx, p: LeakyParams) => {
  if (p.mode === 'builder') throw new Error(`builder cannot reach ${connection()} with ${signingKey()}`);
  if (p.mode === 'csv')
    return ctx.csv(p.input!, { header: true, badRecords: p.skip ? 'skip' : 'fail' }).count();
  if (p.mode === 'blob') return ctx.textFile(p.input!).count();
  return ctx
    .parallelize([1, 2], 2)
    .map((x) => {
      console.error(`connecting with ${connection()} signed by ${signingKey()}`);
      if (x > 0) throw new Error(`task cannot reach ${connection()} with ${signingKey()}`);
      return x;
    })
    .count();
});
