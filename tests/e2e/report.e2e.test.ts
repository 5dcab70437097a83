// report.html as a reader opens it: written by `cnlab report` from runs of the real run store, opened from
// disk in Chromium with the network in view. The page asks for nothing but itself, shows the paper-style
// tables and the charts, and a run named with markup shows that markup as text. Screenshot:
// test-artifacts/e2e/report/report.png.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, runCli } from '../support/run-cli';
import { writeSyntheticRuns } from '../support/synthetic-runs';
import { launchChromium, screenshotter } from './support/browser';

const HOSTILE_NAME = '<img src=x onerror="window.__owned=1">bridge & co';

let scratch: string;
let browser: Browser;
let reportFile: string;
const shot = screenshotter('report');

beforeAll(async () => {
  assertCliBuilt();
  scratch = mkdtempSync(join(tmpdir(), 'cnlab-report-e2e-'));
  const workspace = join(scratch, 'ws');
  const env = { HOME: join(scratch, 'home'), CNLAB_CONFIG_DIR: join(scratch, 'config'), CNLAB_WORKSPACE: workspace };
  const ids = await writeSyntheticRuns(workspace, 2);
  // The second run carries markup in its name, where a careless report would execute it.
  const recordFile = join(workspace, 'runs', ids[1] ?? '', 'run.json');
  const record = JSON.parse(readFileSync(recordFile, 'utf8')) as { experiment: { name: string } };
  record.experiment.name = HOSTILE_NAME;
  writeFileSync(recordFile, JSON.stringify(record));
  reportFile = join(scratch, 'report.html');
  const result = await runCli(['report', ...ids, '-o', reportFile], env);
  if (result.code !== 0) throw new Error(`cnlab report failed: ${result.stderr}`);
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('report.html', () => {
  it('opens offline: no request but the file, the tables and charts on screen, markup in names shown as text', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    const url = pathToFileURL(reportFile).href;
    await page.goto(url);

    const throughput = page.locator('section.run').first().locator('[data-table="throughput"] tbody tr');
    expect(await throughput.count()).toBe(6);
    expect(await throughput.locator('td:first-child').allTextContents()).toEqual(expect.arrayContaining(['bridge', 'macvlan', 'vxlan']));
    expect(await page.locator('[data-table="throughput"] th').allTextContents()).toEqual(expect.arrayContaining(['median (Gbit/s)', 'vs bridge (%)']));
    expect(await page.locator('figure[data-chart] svg').count()).toBe(4);
    expect(await page.locator('figure[data-chart="ci-bars"] svg path').count()).toBeGreaterThan(10);

    await expect.poll(() => page.locator('h2').allTextContents()).toContain(HOSTILE_NAME);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __owned?: number }).__owned)).toBeUndefined();

    expect(requests).toEqual([url]);
    await shot(page, 'report');
    await page.screenshot({ path: join(scratch, 'full.png'), fullPage: true });
    await context.close();
  });
});
