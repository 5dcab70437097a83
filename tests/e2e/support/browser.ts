// Debian's Chromium driven by playwright-core (never `npx playwright install`: no downloads here),
// headless, plus a screenshot helper that keeps each step's picture under test-artifacts/e2e/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CNLAB_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts', 'e2e');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

/** Saves `<ARTIFACTS>/<suite>/<nn>-<step>.png` and returns its path. */
export function screenshotter(suite: string): (page: Page, step: string) => Promise<string> {
  const dir = join(ARTIFACTS, suite);
  mkdirSync(dir, { recursive: true });
  let index = 0;
  return async (page, step) => {
    index += 1;
    const path = join(dir, `${String(index).padStart(2, '0')}-${step}.png`);
    await page.screenshot({ path, fullPage: true });
    return path;
  };
}

/** A console tab: a new page with a default wait and every uncaught page error collected for the test's end. */
export async function newConsolePage(browser: Browser, options: BrowserContextOptions, timeoutMs: number, pageErrors: string[]): Promise<Page> {
  const page = await browser.newPage(options);
  page.setDefaultTimeout(timeoutMs);
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return page;
}
