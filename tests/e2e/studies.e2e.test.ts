// A researcher reproduces Suo et al.'s Table VI from the console alone: browser mode in Debian Chromium,
// the real backend, two testbed hosts each with a private Docker engine. "New experiment from study…",
// the hosts mapped, fewer repetitions typed into the YAML, Run; then Results shows our launch times beside
// the paper's with every finding marked, and report.html carries the same. Screenshots and the table as
// read from the page: test-artifacts/e2e/studies/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startHostDockerd, type HostDockerd } from '../../src-main/core/testbed/dockerd.ts';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { experimentLeftovers } from '../support/lab-checks';
import { ARTIFACTS, launchChromium, newConsolePage, screenshotter } from './support/browser';
import { startConsoleServer, type ConsoleServer } from './support/console-server';
import * as flow from './support/new-user-flow';

let testbed: Testbed;
let server: ConsoleServer;
let browser: Browser;
let page: Page;
const daemons: HostDockerd[] = [];
const shot = screenshotter('studies');
const pageErrors: string[] = [];
const byTestId = (id: string) => page.getByTestId(id);

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 2 });
  // Docker's own networks outside the pool the template's labs take (198.19.0.0/16, the experiment default).
  for (const host of ['h1', 'h2']) daemons.push(await startHostDockerd(testbed, host, { bip: null, addressPool: '198.18.224.0/19' }));
  server = await startConsoleServer();
  browser = await launchChromium();
  page = await newConsolePage(browser, { viewport: { width: 1600, height: 1100 } }, 15_000, pageErrors);
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  for (const daemon of daemons) await daemon.stop();
  await testbed?.teardown();
}, 120_000);

describe('Suo et al. — Table VI launch time, from the UI', () => {
  it('adds the testbed hosts', async () => {
    await page.goto(server.url);
    await flow.addTestbedHosts({ page, testbed, shot });
  });

  it('makes the experiment from the study with the hosts mapped, and sees what cnlab substitutes', async () => {
    await byTestId('nav-experiments').click();
    await byTestId('new-from-study').click();
    await byTestId('study-dialog').waitFor();
    await byTestId('study-option-suo2018-table6').click();
    await byTestId('study-part-launch').click();
    await expect.poll(() => byTestId('study-host-h1').inputValue()).toBe('h1');
    await byTestId('study-host-h2').selectOption('h2');
    expect(await byTestId('study-dialog').textContent()).toMatch(/Weave[\s\S]*not reproducible/i);
    await shot(page, 'study-dialog');
    await byTestId('study-create').click();
    await byTestId('study-dialog').waitFor({ state: 'detached' });
    await expect.poll(() => byTestId('experiment-yaml').inputValue()).toMatch(/study:\s*\n\s+id: suo2018-table6\s*\n\s+part: launch/);
  });

  it('runs it with two repetitions and no warm-up (typed into the YAML), every network measured', async () => {
    const yaml = await byTestId('experiment-yaml').inputValue();
    const quick = yaml.replace(/^repetitions: 10$/m, 'repetitions: 2').replace(/^warmup: 1$/m, 'warmup: 0');
    expect(quick).not.toBe(yaml);
    await byTestId('experiment-yaml').fill(quick);
    await expect.poll(() => byTestId('plan-summary').textContent(), { timeout: 20_000 }).toMatch(/8 cells · 16 runs/);
    await byTestId('run-experiment').click();
    await expect.poll(() => byTestId('run-phase').textContent(), { timeout: 600_000, interval: 1000 }).toMatch(/completed/i);
    await shot(page, 'run-completed');
  });

  it('reads our launch times beside the paper’s, with every finding marked', async () => {
    await byTestId('nav-results').click();
    await page.locator('[data-testid="run-row"]', { hasText: 'suo-table6-launch' }).first().click();
    const section = byTestId('study-comparison');
    await section.waitFor({ timeout: 20_000 });
    const table = section.getByTestId('study-table');
    await expect.poll(() => table.getByTestId('results-row').count()).toBe(10);
    const rows = await table.getByTestId('results-row').allTextContents();
    expect(rows.find((row) => row.startsWith('Bridge (single host)'))).toMatch(/663\.1 ms\s*\+22\.9 %\s*[+−]\d/);
    expect(rows.find((row) => row.startsWith('Weave'))).toMatch(/not reproduced here/);
    const verdicts = await section.locator('[data-testid^="study-finding-"]').evaluateAll((items) => items.map((item) => [item.getAttribute('data-testid'), item.getAttribute('data-verdict')]));
    expect(verdicts.map(([id]) => id)).toEqual(['ranking', 'container-fastest', 'host-like-none', 'nat-like-bridge', 'overlay-slow', 'bgp-slow'].map((id) => `study-finding-${id}`));
    for (const [id, verdict] of verdicts) expect(['holds', 'does-not-hold', 'inconclusive', 'not-measured'], id ?? '').toContain(verdict);
    expect(verdicts.find(([id]) => id === 'study-finding-ranking')?.[1]).toMatch(/^(holds|does-not-hold)$/);
    const launch = byTestId('table-launch');
    await expect.poll(() => launch.getByTestId('results-row').count()).toBe(8);
    await shot(page, 'beside-the-paper');
    // The table as the page shows it, for the note.
    mkdirSync(join(ARTIFACTS, 'studies'), { recursive: true });
    const launchRows = await launch.getByTestId('results-row').allTextContents();
    const findings = await section.locator('[data-testid^="study-finding-"]').allTextContents();
    writeFileSync(join(ARTIFACTS, 'studies', 'table6.txt'), [...rows, '', ...findings, '', ...launchRows].join('\n'));
    expect(await experimentLeftovers(testbed)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
