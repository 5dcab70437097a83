// A new user compares bridge, macvlan and vxlan from the console alone: browser mode in Debian Chromium,
// the real backend, iperf3 on a two-host testbed. Builds the matrix point and click, runs it while live
// points arrive, cancels and resumes once, reads the paper-style tables, exports a CSV and an SVG,
// measures launch time per mode, writes report.html (opened offline), and exports the run as a bundle that
// it imports back read-only and compares. Screenshots and the exported files: test-artifacts/e2e/experiments/.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { experimentLeftovers } from '../support/lab-checks';
import { ARTIFACTS, launchChromium, newConsolePage, screenshotter } from './support/browser';
import { startConsoleServer, type ConsoleServer } from './support/console-server';
import * as flow from './support/new-user-flow';

let testbed: Testbed;
let server: ConsoleServer;
let browser: Browser;
let page: Page;
const shot = screenshotter('experiments');
const pageErrors: string[] = [];
const byTestId = (id: string) => page.getByTestId(id);

beforeAll(async () => {
  testbed = await startTestbed({ hosts: 2 });
  server = await startConsoleServer();
  browser = await launchChromium();
  page = await newConsolePage(browser, { viewport: { width: 1600, height: 1000 }, acceptDownloads: true }, 15_000, pageErrors);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  await testbed?.teardown();
});

/** Sets a builder field and leaves it, so the form's change handlers run as they do for a user. */
async function fill(id: string, value: string): Promise<void> {
  await byTestId(id).fill(value);
  await byTestId(id).blur();
}

async function saveDownload(start: () => Promise<void>, name: string): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), start()]);
  const path = join(ARTIFACTS, 'experiments', name);
  await download.saveAs(path);
  return readFileSync(path, 'utf8');
}

const livePoints = async (): Promise<number> => Number((await byTestId('live-points').getAttribute('data-count')) ?? '0');

describe('bridge vs macvlan vs vxlan, from the UI', () => {
  it('adds the two testbed hosts', async () => {
    await page.goto(server.url);
    await flow.addTestbedHosts({ page, testbed, shot });
  });

  it('builds the matrix point and click and sees the plan with its time estimate', async () => {
    await byTestId('nav-experiments').click();
    await fill('builder-name', 'compare');
    await byTestId('builder-server').selectOption('h1');
    await byTestId('builder-client').selectOption('h2');
    for (const mode of ['bridge', 'macvlan', 'vxlan']) await byTestId(`builder-case-${mode}`).check();
    await byTestId('builder-workload').selectOption('iperf3-tcp');
    await fill('builder-sizes', '1400, 65536');
    await fill('builder-duration', '3');
    await fill('builder-repetitions', '2');
    await fill('builder-warmup', '0');
    await fill('builder-cooldown', '0');
    await byTestId('builder-baseline').selectOption('bridge');
    await expect.poll(() => byTestId('experiment-yaml').inputValue()).toMatch(/blockSize:[\s\S]*1400[\s\S]*65536/);
    // bridge only connects containers on one host: the builder places its pair on the server host.
    expect(await byTestId('experiment-yaml').inputValue()).toMatch(/mode: bridge[\s\S]*placement/);
    await expect.poll(() => byTestId('plan-summary').textContent(), { timeout: 20_000 }).toMatch(/6 cells · 12 runs · 3 labs · about/);
    await shot(page, 'matrix');
  });

  it('runs it: live throughput points arrive, the lab diagram shows per-link throughput; cancel stops it', async () => {
    await byTestId('run-experiment').click();
    await expect.poll(livePoints, { timeout: 90_000, interval: 250 }).toBeGreaterThan(0);
    const first = await livePoints();
    await expect.poll(livePoints, { timeout: 30_000, interval: 250 }).toBeGreaterThan(first);
    await expect.poll(() => byTestId('live-links').textContent(), { timeout: 30_000, interval: 250 }).toMatch(/[GM]bit\/s/);
    await expect.poll(() => page.locator('[data-testid="cell-status-row"][data-status="done"], [data-testid="cell-status-row"][data-status="running"]').count()).toBeGreaterThan(0);
    await expect.poll(() => byTestId('run-eta').textContent(), { timeout: 30_000 }).toMatch(/elapsed/);
    await shot(page, 'running');
    await expect.poll(async () => Number(/run (\d+) of/.exec((await byTestId('run-counter').textContent()) ?? '')?.[1] ?? 0), { timeout: 90_000 }).toBeGreaterThan(2);
    await byTestId('cancel-experiment').click();
    await expect.poll(() => byTestId('run-phase').textContent(), { timeout: 90_000 }).toMatch(/cancelled/i);
    expect(await experimentLeftovers(testbed)).toEqual([]);
    await shot(page, 'cancelled');
  });

  it('resumes the run to its end: every cell done, nothing left on the hosts', async () => {
    await byTestId('resume-experiment').click();
    await expect.poll(() => byTestId('run-phase').textContent(), { timeout: 240_000, interval: 500 }).toMatch(/completed/i);
    expect(await page.locator('[data-testid="cell-status-row"][data-status="done"]').count()).toBe(6);
    expect(await experimentLeftovers(testbed)).toEqual([]);
    await shot(page, 'completed');
  });

  it('reads the paper-style throughput table: three modes, medians with intervals, % vs bridge; the bar chart is on screen', async () => {
    await byTestId('nav-results').click();
    const table = byTestId('table-throughput');
    await table.waitFor();
    await expect.poll(() => table.getByTestId('results-row').count()).toBe(6);
    const text = (await table.textContent()) ?? '';
    for (const mode of ['bridge', 'macvlan', 'vxlan']) expect(text).toContain(mode);
    expect(text).toMatch(/\d+(\.\d+)?/);
    expect(text).toMatch(/[+−-]\d+(\.\d+)?\s*%/);
    await byTestId('chart-ci-bars').locator('canvas').first().waitFor();
    await shot(page, 'results');
  });

  it('exports the table as CSV and the bar chart, with its 95% error bars, as SVG', async () => {
    const csv = await saveDownload(() => byTestId('csv-throughput').click(), 'throughput.csv');
    const lines = csv.trim().split(/\r?\n/);
    expect(lines).toHaveLength(7);
    expect(lines[0]).toMatch(/median/i);
    expect(lines.slice(1).map((line) => line.split(',')[0])).toEqual(expect.arrayContaining(['bridge', 'macvlan', 'vxlan']));
    const svg = await saveDownload(() => byTestId('svg-ci-bars').click(), 'ci-bars.svg');
    expect(svg).toMatch(/^<svg[\s\S]*<path[\s\S]*<\/svg>$/);
    expect(svg).toContain('vxlan');
    // 6 bars, and 6 error bars of 3 strokes each (stem and two caps).
    expect((svg.match(/<path/g) ?? []).length).toBeGreaterThanOrEqual(6 + 18);
  });

  it('measures launch time per mode and reads the launch-time table with its steps', async () => {
    await byTestId('nav-experiments').click();
    await fill('builder-name', 'launch');
    await byTestId('builder-workload').selectOption('launch');
    await fill('builder-repetitions', '2');
    await expect.poll(() => byTestId('plan-summary').textContent(), { timeout: 20_000 }).toMatch(/3 cells · 6 runs/);
    await byTestId('run-experiment').click();
    await expect.poll(() => byTestId('run-phase').textContent(), { timeout: 180_000, interval: 500 }).toMatch(/completed/i);
    await byTestId('nav-results').click();
    const table = byTestId('table-launch');
    await table.waitFor({ timeout: 20_000 });
    await expect.poll(() => table.getByTestId('results-row').count()).toBe(3);
    expect(await table.textContent()).toMatch(/netns/i);
    await shot(page, 'launch-table');
    expect(await experimentLeftovers(testbed)).toEqual([]);
    expect(pageErrors).toEqual([]);
  });

  it('writes the run as report.html, which opens offline with the tables, charts, hosts and commands', async () => {
    await byTestId('nav-results').click();
    await page.locator('[data-testid="run-row"]', { hasText: 'compare' }).first().click();
    await byTestId('table-throughput').waitFor();
    const reportFile = join(ARTIFACTS, 'experiments', 'report.html');
    rmSync(reportFile, { force: true });
    await byTestId('report-write').click();
    await byTestId('bundle-file').fill(reportFile);
    await byTestId('bundle-submit').click();
    await expect.poll(() => byTestId('bundle-done').textContent(), { timeout: 30_000 }).toContain('opens offline');
    await byTestId('bundle-close').click();

    const reader = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    reader.on('request', (request) => requests.push(request.url()));
    const url = pathToFileURL(reportFile).href;
    await reader.goto(url);
    expect(await reader.locator('[data-table="throughput"] tbody tr').count()).toBe(6);
    expect(await reader.locator('figure[data-chart] svg').count()).toBeGreaterThanOrEqual(2);
    expect(await reader.locator('table.facts tbody tr').count()).toBe(2);
    expect(await reader.locator('details.commands tbody tr').count()).toBeGreaterThan(10);
    expect(requests).toEqual([url]);
    await reader.screenshot({ path: join(ARTIFACTS, 'experiments', 'report-page.png'), fullPage: true });
    await reader.close();
  });

  it('exports the run as a bundle, imports it back read-only and compares the two', async () => {
    const bundle = join(ARTIFACTS, 'experiments', 'compare-bundle.tar.gz');
    rmSync(bundle, { force: true });
    await byTestId('bundle-export').click();
    await byTestId('bundle-file').fill(bundle);
    await byTestId('bundle-submit').click();
    await expect.poll(() => byTestId('bundle-done').textContent(), { timeout: 30_000 }).toMatch(/Wrote .*compare-bundle\.tar\.gz: 1 run/);
    await byTestId('bundle-close').click();

    await byTestId('bundle-import').click();
    await byTestId('bundle-file').fill(bundle);
    await byTestId('bundle-submit').click();
    await expect.poll(() => byTestId('bundle-done').textContent(), { timeout: 30_000 }).toMatch(/Imported 1 run .*every checksum verified.*read-only/);
    await byTestId('bundle-close').click();
    await expect.poll(() => byTestId('run-header-imported').textContent()).toContain('imported from compare-bundle');
    expect(await page.locator('[data-testid="run-row"] [data-testid="run-imported"]').count()).toBe(1);
    expect(await byTestId('resume-from-results').count()).toBe(0);

    // The imported run against the user's own: the same cells, no significant difference with itself.
    const own = await page.locator('[data-testid="run-row"]', { hasText: 'compare' }).filter({ hasNot: page.getByTestId('run-imported') }).first().getAttribute('data-run-id');
    await byTestId('compare-select').selectOption(own ?? '');
    const comparison = byTestId('table-comparison');
    await expect.poll(() => comparison.getByTestId('results-row').count(), { timeout: 20_000 }).toBe(6);
    const rows = await comparison.getByTestId('results-row').allTextContents();
    expect(rows.every((row) => /no$/.test(row.trim()))).toBe(true);
    await shot(page, 'imported-compared');
    expect(pageErrors).toEqual([]);
  });
});
