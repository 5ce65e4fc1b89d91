/**
 * The driver's embedded fabric: `Driver.connect` returns once storage serves, while the executor
 * hosts still start (as a driver submits to a deployment whose instances are still cold). The
 * first job runs on them once they are up; when none can start, the run fails with why, never a hang.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Driver } from '../../driver/app/driver.js';
import { FAST_HOST_ENV } from '../helpers/fabric.js';

const ONE_STAGE = path.resolve(import.meta.dirname, '../../bench/jobs/one-stage.ts');

describe('the embedded fabric of Driver.connect', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('a job submitted while the hosts start runs on them, and the result equals plain JS', async () => {
    const driver = await Driver.connect({
      local: { executors: 2, slots: 1, hostEnv: FAST_HOST_ENV },
      eventLog: false,
      log: () => undefined,
    });
    try {
      const records = 500;
      const sum = await driver.run(ONE_STAGE, { records, partitions: 4 });
      const expected = Array.from({ length: records }, (_, i) => i * 2).reduce((a, b) => a + b, 0);
      expect(sum).toBe(expected);
    } finally {
      await driver.close();
    }
  });

  it('when no executor host can start, the run fails naming the executor and the exit, within bounded time', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stratus-host-dies-'));
    dirs.push(dir);
    // Every host process exits with code 7 a moment after it starts (the fabric tries 3 hosts).
    const preload = path.join(dir, 'exit-soon.cjs');
    await writeFile(preload, 'setTimeout(() => process.exit(7), 100);\n');
    const began = performance.now();
    const driver = await Driver.connect({
      local: { executors: 1, slots: 1, hostEnv: { ...FAST_HOST_ENV, NODE_OPTIONS: `--require=${preload}` } },
      eventLog: false,
      log: () => undefined,
    });
    try {
      await expect(driver.run(ONE_STAGE, { records: 10, partitions: 2 })).rejects.toThrow(
        /executor executor-3: host exited before it was ready \(code 7, signal null\)/,
      );
      // A later run of the same driver fails the same way at once.
      await expect(driver.run(ONE_STAGE, { records: 10, partitions: 2 })).rejects.toThrow(
        /host exited before it was ready/,
      );
    } finally {
      await driver.close('failed');
    }
    expect(performance.now() - began).toBeLessThan(30_000);
  });
});
