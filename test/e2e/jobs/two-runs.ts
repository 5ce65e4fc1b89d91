/** A driver script that runs sum-by-key once per seed: every run's shuffle has id 0, with different data. */
import { defineDriverScript } from 'stratus/driver';
import sumByKey from './sum-by-key.js';

export default defineDriverScript(async (driver, p: { seeds: number[]; pairs: number; keys: number }) => {
  const results: [string, number][][] = [];
  for (const seed of p.seeds)
    results.push(await driver.run(sumByKey, { seed, pairs: p.pairs, keys: p.keys }));
  return results;
});
