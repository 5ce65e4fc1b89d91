/**
 * The deployable artifact (`npm run package:function` → dist/function-app, what azd deploys)
 * is the very app the local fabric's executor hosts load; a job runs through it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFunctionAppDir } from '../../contract/local-host-process.js';
import { generateOrders } from '../../examples/lib/generate.js';
import { PACKAGE_ROOT } from '../helpers/dist.js';
import { type E2EFabric, startE2E } from '../helpers/e2e.js';

let e2e: E2EFabric;
beforeAll(async () => {
  e2e = await startE2E({ label: 'artifact', executors: 1, slots: 2 });
});
afterAll(async () => {
  await e2e?.close();
});

describe('the deployable artifact', () => {
  it('is what executor hosts load, and runs a job with a shuffle', async () => {
    const artifact = path.join(PACKAGE_ROOT, 'dist', 'function-app');
    expect(defaultFunctionAppDir()).toBe(artifact);
    expect(existsSync(path.join(artifact, 'host.json'))).toBe(true);
    const result = await e2e.driver.run(path.join(PACKAGE_ROOT, 'examples', 'orders.ts'), {
      orders: 200,
      seed: 2,
    });
    expect((result as { lineItems: number }).lineItems).toBe(generateOrders(200, 2).lineItems.length);
  });
});
