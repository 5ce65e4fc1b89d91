/**
 * Headless Chromium for the `stratus ui` tests: Debian's `chromium` (or STRATUS_CHROMIUM),
 * driven by playwright-core. Without it those tests fail, they never skip.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { startUiServer, type UiServer } from '../../driver/observe/ui/server.js';

const CHROMIUM = process.env.STRATUS_CHROMIUM ?? '/usr/bin/chromium';

/** Launch headless Chromium; throws saying how to install it when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: the UI tests need it. Install it with ` +
        `'apt-get update && apt-get install -y chromium' (Debian), or point STRATUS_CHROMIUM at a Chromium binary.`,
    );
  }
  // Root in a container has no user namespaces for Chromium's sandbox.
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}

/** Open `url` of a `stratus ui` server and wait until the page says it is ready, with no page error shown. */
export async function openUiPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
  expect(errors).toEqual([]);
  expect(await page.locator('p.error').count()).toBe(0);
  return page;
}

/** A `stratus ui` server over an event log written from `events`, and headless Chromium to look at it. */
export interface UiFixture {
  browser: Browser;
  server: UiServer;
  /** Close the browser and the server, and remove the log. */
  close(): Promise<void>;
}

/** Write `events` as a JSON-lines event log in a temp folder, serve it, and launch Chromium. */
export async function serveEventsInBrowser(label: string, events: readonly unknown[]): Promise<UiFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), `stratus-ui-${label}-`));
  const file = path.join(dir, `${label}.jsonl`);
  await writeFile(file, `${events.map((e) => JSON.stringify(e)).join('\n')}\n`);
  const server = await startUiServer({ port: 0, source: { file } }).catch(async (error: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  const browser = await launchChromium().catch(async (error: unknown) => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    browser,
    server,
    async close() {
      await browser.close();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
