// "Start demo lab" as a new user meets it (the console runs as root here): one click starts three emulated
// hosts, adds them with their facts and opens the example topology; it applies, verifies and tears down from
// the UI; "Stop demo lab" removes hosts, labs and every namespace it made. Screenshots: test-artifacts/e2e/demo-lab/.
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, newConsolePage, screenshotter } from './support/browser';
import { startConsoleServer, type ConsoleServer } from './support/console-server';
import { run } from '../../src-main/core/testbed/exec.ts';

let server: ConsoleServer;
let browser: Browser;
let page: Page;
const shot = screenshotter('demo-lab');
const pageErrors: string[] = [];
const testbedDirs = (): string[] => {
  try {
    return readdirSync('/tmp/cnlab-testbed').filter((entry) => /^tb[0-9a-f]+$/.test(entry));
  } catch {
    return [];
  }
};
let before: string[] = [];

async function namespacesOf(dirs: readonly string[]): Promise<string[]> {
  const names = (await run('ip', ['netns', 'list'])).stdout.split('\n').map((line) => line.split(' ')[0] ?? '');
  return names.filter((name) => dirs.some((id) => name.startsWith(`cnl${id}-`)));
}

beforeAll(async () => {
  before = testbedDirs();
  server = await startConsoleServer();
  browser = await launchChromium();
  page = await newConsolePage(browser, { viewport: { width: 1440, height: 900 } }, 20_000, pageErrors);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe.skipIf(process.getuid?.() !== 0)('the demo lab from the console (needs root)', () => {
  it('starts from the empty state: three hosts connected with facts, the example topology opened', async () => {
    await page.goto(server.url);
    await page.getByTestId('empty-demo-start').click();
    await page.getByTestId('topology-view').waitFor({ timeout: 90_000 });
    await expect.poll(() => page.getByTestId('topology-yaml').inputValue()).toMatch(/demo-h1[\s\S]*vxlan/);
    await page.getByTestId('nav-hosts').click();
    for (const host of ['demo-h1', 'demo-h2', 'demo-h3']) await page.locator(`[data-testid="host-row-${host}"][data-state="connected"]`).waitFor();
    await shot(page, 'demo-hosts');
  });

  it('applies, verifies and tears down the example from the Topology view', async () => {
    await page.getByTestId('nav-topology').click();
    await page.getByTestId('action-apply').click();
    for (const container of ['web', 'db', 'client']) {
      await page.locator(`[data-testid="diagram-node"][data-node="ctr:${container}"][data-state="up"]`).waitFor({ state: 'attached', timeout: 60_000 });
    }
    await page.getByTestId('action-verify').click();
    await expect.poll(() => page.getByTestId('verify-summary').textContent(), { timeout: 60_000 }).toMatch(/(\d+)\/\1 pairs as expected/);
    await shot(page, 'demo-verified');
    await page.getByTestId('action-teardown').click();
    await page.locator('[data-testid="diagram-node"][data-node="ctr:web"][data-state="up"]').waitFor({ state: 'detached', timeout: 60_000 });
  });

  it('stops: the demo hosts leave the workspace and nothing of the testbed is left', async () => {
    const started = testbedDirs().filter((id) => !before.includes(id));
    expect(started).toHaveLength(1);
    await page.getByTestId('demo-stop').click();
    await page.getByTestId('demo-start').waitFor({ timeout: 60_000 });
    await page.getByTestId('nav-hosts').click();
    await expect.poll(() => page.locator('[data-testid^="host-row-demo-"]').count()).toBe(0);
    await expect.poll(() => testbedDirs().filter((id) => started.includes(id))).toEqual([]);
    expect(await namespacesOf(started)).toEqual([]);
    await shot(page, 'demo-stopped');
    expect(pageErrors).toEqual([]);
  });
});
