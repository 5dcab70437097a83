// The console's two UI targets, in Debian Chromium over the browser mode with the real backend on a testbed:
// first paint of the built app (target < 1.5 s; floor: a one-line page from a bare node server in the same
// run), and the live diagram while 200 containers change state during a real apply (target: no frame over
// 50 ms; floor: the same page idle). Frames are timed in the page (requestAnimationFrame gaps) and long tasks
// come from Chromium's PerformanceObserver('longtask').
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { HostService } from '../../src-main/core/hosts/host-service';
import { startTestbed, type Testbed } from '../../src-main/core/testbed/testbed.ts';
import { launchChromium } from '../e2e/support/browser';
import { startConsoleServer, type ConsoleServer } from '../e2e/support/console-server';
import { testbedHost } from '../support/testbed-hosts';
import { FRAME_MONITOR, stopMonitor, waitForCount, type FrameStats } from './page-frames';
import { formatSummary, summarise } from './stats';

const PAINT_RUNS = 7;
const DIAGRAM_RUNS = 3;
const CONTAINERS_PER_HOST = 100;

function topologyText(): string {
  return [
    'v: 1',
    'name: bench200',
    'hosts: [h1, h2]',
    'networks:',
    '  - { name: lan, mode: bridge }',
    'containers:',
    `  - { name: a, host: h1, count: ${CONTAINERS_PER_HOST}, networks: [lan] }`,
    `  - { name: b, host: h2, count: ${CONTAINERS_PER_HOST}, networks: [lan] }`,
    '',
  ].join('\n');
}

const containersIn = (page: Page, state: string) => page.locator(`[data-testid="diagram-node"][data-node^="ctr:"][data-state="${state}"]`);
const runningJobs = (page: Page) => page.locator('[data-testid="job-progress"], [data-testid="lab-job"][data-outcome="running"]');

async function firstPaint(browser: Browser, url: string, readySelector: string | null): Promise<{ fcp: number; ready: number }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  if (readySelector) await page.locator(readySelector).first().waitFor();
  const ready = await page.evaluate<number>('performance.now()');
  // The paint entry is recorded a little after the paint itself: poll for it (page.evaluate is not subject to CSP).
  let fcp = 0;
  for (let attempt = 0; attempt < 50 && fcp === 0; attempt += 1) {
    fcp = await page.evaluate<number>("(performance.getEntriesByName('first-contentful-paint')[0] || { startTime: 0 }).startTime");
    if (fcp === 0) await page.waitForTimeout(20);
  }
  await context.close();
  return { fcp, ready };
}

async function floorServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><title>floor</title><h1>cnlab</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function prepareWorkspace(testbed: Testbed, dir: string): Promise<void> {
  const service = await HostService.open({ workspaceDir: join(dir, 'workspace'), configDir: join(dir, 'config'), homeDir: join(dir, 'home'), secrets: () => Promise.resolve(undefined) });
  try {
    for (const name of ['h1', 'h2']) service.inventory.add(testbedHost(testbed, name));
    await service.inventory.save();
    await Promise.all(['h1', 'h2'].map((name) => service.probe(name)));
  } finally {
    await service.close();
  }
}

async function diagramRun(page: Page): Promise<FrameStats> {
  await page.evaluate(FRAME_MONITOR);
  await page.getByTestId('action-apply').click();
  await waitForCount(() => containersIn(page, 'up').count(), 2 * CONTAINERS_PER_HOST, 120_000);
  const stats = await stopMonitor(page);
  await page.getByTestId('action-teardown').click();
  await waitForCount(() => containersIn(page, 'up').count(), 0, 120_000);
  await waitForCount(() => runningJobs(page).count(), 0, 120_000);
  return stats;
}

export async function benchConsole(): Promise<string> {
  const testbed = await startTestbed({ hosts: 2 });
  const scratch = mkdtempSync(join(tmpdir(), 'cnlab-bench-console-'));
  let server: ConsoleServer | null = null;
  let browser: Browser | null = null;
  const floor = await floorServer();
  try {
    await prepareWorkspace(testbed, scratch);
    server = await startConsoleServer({ workspaceDir: join(scratch, 'workspace'), configDir: join(scratch, 'config') });
    browser = await launchChromium();
    const floorPaint: number[] = [];
    const appPaint: number[] = [];
    const appReady: number[] = [];
    for (let run = 0; run < PAINT_RUNS; run += 1) {
      floorPaint.push((await firstPaint(browser, floor.url, null)).fcp);
      const app = await firstPaint(browser, server.url, '[data-testid="nav-hosts"]');
      appPaint.push(app.fcp);
      appReady.push(app.ready);
    }

    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    await page.goto(server.url);
    await page.getByTestId('nav-topology').click();
    await page.getByTestId('topology-yaml').fill(topologyText());
    await waitForCount(() => containersIn(page, 'planned').count(), 2 * CONTAINERS_PER_HOST, 30_000);
    await page.evaluate(FRAME_MONITOR);
    await page.waitForTimeout(3000);
    const idle = await stopMonitor(page);
    const runs: FrameStats[] = [];
    for (let run = 0; run < DIAGRAM_RUNS; run += 1) runs.push(await diagramRun(page));
    await page.close();

    const paint = summarise(appPaint);
    const ready = summarise(appReady);
    const floorSummary = summarise(floorPaint);
    const maxFrames = summarise(runs.map((run) => run.maxFrameMs));
    return [
      '## Console UI (issue 5)',
      '',
      `Built app in Debian Chromium (headless, software rendering) over \`cnlab serve\` with the real backend on a 2-host testbed; min / median / max.`,
      `First paint: ${PAINT_RUNS} cold loads (new browser context each). Diagram: ${DIAGRAM_RUNS} real applies of ${2 * CONTAINERS_PER_HOST} bridge containers`,
      '(100 per host) from the Topology view, every container going planned → applying → up on the diagram while frames are timed in the page.',
      '',
      '| figure | value | target / ratio (median) |',
      '|---|---|---|',
      `| floor: first contentful paint of a one-line page, bare node server | ${formatSummary(floorSummary)} | 1.00x |`,
      `| cnlab first contentful paint | ${formatSummary(paint)} | ${(paint.median / floorSummary.median).toFixed(2)}x of floor; target < 1500 ms: ${paint.max < 1500 ? 'met' : 'MISSED'} |`,
      `| cnlab ready (Hosts tab interactive, hosts listed) | ${formatSummary(ready)} | ${(ready.median / floorSummary.median).toFixed(2)}x of floor |`,
      `| floor: longest frame, Topology view idle with ${2 * CONTAINERS_PER_HOST} containers drawn (3 s) | ${idle.maxFrameMs.toFixed(1)} ms over ${idle.frames} frames | 1.00x |`,
      `| longest frame during an apply of ${2 * CONTAINERS_PER_HOST} containers | ${formatSummary(maxFrames)} | ${(maxFrames.median / Math.max(idle.maxFrameMs, 1)).toFixed(2)}x of idle; target ≤ 50 ms: ${maxFrames.max <= 50 ? 'met' : 'MISSED'} |`,
      `| frames over 50 ms / all frames, per apply | ${runs.map((run) => `${run.over50}/${run.frames}`).join(', ')} | |`,
      `| long tasks (> 50 ms) per apply, longest | ${runs.map((run) => `${run.longTasks} (${run.maxLongTaskMs.toFixed(0)} ms)`).join(', ')} | |`,
      '',
    ].join('\n');
  } finally {
    await browser?.close();
    await server?.stop();
    await floor.close();
    await testbed.teardown();
    rmSync(scratch, { recursive: true, force: true });
  }
}
