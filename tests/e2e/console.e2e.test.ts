// The console as a new user meets it: the browser mode of the built app in Debian Chromium, with the real
// backend on a two-host testbed. From an empty workspace to an applied, verified, torn-down bridge + VXLAN
// lab without a terminal; then a changed host key is refused. Screenshots of each step: test-artifacts/e2e/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { launchChromium, newConsolePage, screenshotter } from './support/browser';
import { startConsoleServer, type ConsoleServer } from './support/console-server';
import * as flow from './support/new-user-flow';

let testbed: Testbed;
let server: ConsoleServer;
let browser: Browser;
let page: Page;
const shot = screenshotter('console');
const pageErrors: string[] = [];

// Built on first use: the steps need the page and testbed that beforeAll makes.
const context = (): flow.FlowContext => ({ page, testbed, shot });

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 2 });
  server = await startConsoleServer();
  browser = await launchChromium();
  page = await newConsolePage(browser, { viewport: { width: 1440, height: 900 } }, 15_000, pageErrors);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await testbed?.teardown();
});

describe('a new user, empty workspace → applied, verified, torn-down two-host lab', () => {
  it('opens on an empty state that says what to do first', async () => {
    await page.goto(server.url);
    await flow.seeEmptyWorkspace(context());
  });

  flow.registerFlowSteps(context);
});

describe('the dark theme', () => {
  it('switches with Ctrl+Shift+L and is kept across a reload, like the topology being designed', async () => {
    await page.getByTestId('nav-topology').click();
    await page.keyboard.press('Control+Shift+L');
    await expect.poll(() => page.evaluate<string | null>("document.documentElement.getAttribute('data-theme')")).toBe('dark');
    await page.reload();
    await expect.poll(() => page.evaluate<string | null>("document.documentElement.getAttribute('data-theme')")).toBe('dark');
    await page.getByTestId('nav-topology').click();
    await expect.poll(() => page.getByTestId('topology-yaml').inputValue()).toMatch(/name: demo[\s\S]*name: client/);
    // The restored topology is drawn: ECharts made its canvas with the graph in it.
    await page.locator('[data-testid="topology-view"] canvas').first().waitFor();
    await page.waitForTimeout(300);
    await shot(page, 'dark-theme');
    await page.keyboard.press('Control+Shift+L');
    await page.getByTestId('nav-hosts').click();
  });
});

describe('a changed host key', () => {
  it('is refused with the fix, and the dialog offers no way to accept it', async () => {
    await flow.refuseChangedHostKey(context());
    expect(pageErrors).toEqual([]);
  });
});
