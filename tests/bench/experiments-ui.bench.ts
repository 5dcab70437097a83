// The Experiments and Results views under load, in Debian Chromium over the browser mode with the real
// backend in this process: 64 live throughput series at 1 Hz for 10 minutes of synthetic run events
// (sent at 10x speed, so the page takes ten updates a second), timed frame by frame with the renderer's JS
// heap read over CDP (targets: no frame over 50 ms, heap under 300 MB; floor: the same page idle); and the
// Results view opening on a workspace of 10,000 runs (target under 1 s; floor: the Hosts view's first load).
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { LabApiEvent, LiveSampleView } from '../../src-main/contract/lab-api';
import { startBrowserServer, type BrowserServer } from '../../src-main/server/browser-server';
import { launchChromium } from '../e2e/support/browser';
import { openTestConsole, type TestConsole } from '../support/lab-console';
import { writeSyntheticRuns } from '../support/synthetic-runs';
import { FRAME_MONITOR, stopMonitor, type FrameStats } from './page-frames';
import { formatSummary, summarise } from './stats';

const RENDERER_DIR = join(__dirname, '..', '..', 'out', 'renderer');
const CELLS = 8;
const STREAMS_PER_CELL = 8;
const SIMULATED_SECONDS = 600;
const SPEEDUP = 10;
const RESULTS_RUNS = 10_000;
const OPEN_REPEATS = 5;

/** Reads the renderer's used JS heap over one CDP session (enabling it once: enabling is not free). */
async function heapReader(page: Page): Promise<() => Promise<number>> {
  const session = await page.context().newCDPSession(page);
  await session.send('Performance.enable');
  return async () => {
    const { metrics } = await session.send('Performance.getMetrics');
    return (metrics.find((metric) => metric.name === 'JSHeapUsedSize')?.value ?? 0) / 2 ** 20;
  };
}

/** One simulated second: every cell's run reports its streams, and both hosts their CPU. */
function secondOfEvents(jobId: string, t: number): LabApiEvent[] {
  const events: LabApiEvent[] = [];
  for (let cell = 0; cell < CELLS; cell++) {
    const samples: LiveSampleView[] = Array.from({ length: STREAMS_PER_CELL }, (_, stream) => ({ t, metric: 'throughputBitsPerSecond', value: 1e9 * (1 + cell) * (1 + 0.1 * Math.sin(t / 7 + stream)), source: `pair${stream + 1}/pair` }));
    samples.push({ t, metric: 'cpuPercent', value: 40 + 10 * Math.sin(t / 5), source: cell % 2 === 0 ? 'h1' : 'h2' });
    events.push({ type: 'run-samples', jobId, runId: 'bench-run', key: `${cell}.r1`, samples });
  }
  return events;
}

async function liveSeries(page: Page, console: TestConsole): Promise<{ idle: FrameStats; live: FrameStats; heapBefore: number; heapAfter: number; heapMax: number }> {
  await page.getByTestId('nav-experiments').click();
  await page.getByTestId('run-controls').waitFor();
  await page.evaluate(FRAME_MONITOR);
  await page.waitForTimeout(3000);
  const idle = await stopMonitor(page);
  const jobId = 'job-bench-live';
  const emit = (event: LabApiEvent) => console.console.emit(event);
  emit({ type: 'job-started', jobId, kind: 'experiment', title: 'bench' });
  for (let cell = 0; cell < CELLS; cell++) emit({ type: 'run-progress', jobId, runId: 'bench-run', key: `${cell}.r1`, cellId: `mode${cell}`, warmup: false, done: cell, total: CELLS, elapsedMs: 0, etaMs: null });
  const heapMb = await heapReader(page);
  const heapBefore = await heapMb();
  let heapMax = heapBefore;
  await page.evaluate(FRAME_MONITOR);
  for (let t = 1; t <= SIMULATED_SECONDS; t++) {
    for (const event of secondOfEvents(jobId, t)) emit(event);
    await new Promise((resolve) => setTimeout(resolve, 1000 / SPEEDUP));
    if (t % 60 === 0) heapMax = Math.max(heapMax, await heapMb());
  }
  await page.waitForTimeout(1500);
  const live = await stopMonitor(page);
  const heapAfter = await heapMb();
  emit({ type: 'job-finished', jobId, kind: 'experiment', outcome: 'succeeded', result: { kind: 'experiment', runId: 'bench-run', state: 'completed' } });
  return { idle, live, heapBefore, heapAfter, heapMax: Math.max(heapMax, heapAfter) };
}

/** From a fresh page to the newest run's throughput table on screen. */
async function openResults(browser: Browser, url: string, tab: 'results' | 'hosts'): Promise<number> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto(url);
  await page.getByTestId('nav-hosts').waitFor();
  const started = Date.now();
  if (tab === 'results') {
    await page.getByTestId('nav-results').click();
    await page.getByTestId('table-throughput').waitFor({ timeout: 60_000 });
    await page.getByTestId('run-row').first().waitFor();
  } else {
    await page.getByTestId('nav-topology').click();
    await page.getByTestId('topology-yaml').waitFor();
  }
  const elapsed = Date.now() - started;
  await context.close();
  return elapsed;
}

export async function benchExperimentsUi(): Promise<string> {
  const console = await openTestConsole('cnlab-bench-experiments-ui-');
  let server: BrowserServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await startBrowserServer({ dispatcher: console.console.dispatcher, rendererDir: RENDERER_DIR });
    browser = await launchChromium();
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    await page.goto(server.url);
    const live = await liveSeries(page, console);
    const pointsDrawn = Number((await page.getByTestId('live-points').getAttribute('data-count')) ?? 0);
    await page.close();

    await writeSyntheticRuns(console.workspaceDir, RESULTS_RUNS);
    const cold = await openResults(browser, server.url, 'results');
    const warm: number[] = [];
    const floor: number[] = [];
    for (let repeat = 0; repeat < OPEN_REPEATS; repeat++) {
      floor.push(await openResults(browser, server.url, 'hosts'));
      warm.push(await openResults(browser, server.url, 'results'));
    }
    const warmSummary = summarise(warm);
    const floorSummary = summarise(floor);
    const liveOk = live.live.maxFrameMs <= 50;
    const heapOk = live.heapMax < 300;
    return [
      '## Experiments and Results views (issue 6)',
      '',
      `Built app in Debian Chromium (headless, software rendering) over the browser mode, backend in the bench process. Live: ${CELLS} cells × ${STREAMS_PER_CELL} streams = ${CELLS * STREAMS_PER_CELL} throughput series plus CPU per host, ${SIMULATED_SECONDS} simulated seconds (10 minutes at 1 Hz) sent at ${SPEEDUP}x speed, so the page takes ${SPEEDUP} updates a second. Results: ${RESULTS_RUNS.toLocaleString('en')} synthetic completed runs (3 modes × 2 sizes × 2 repetitions each) written by the real run store; time from clicking the tab to the newest run's throughput table on screen.`,
      '',
      '| figure | value | target / ratio |',
      '|---|---|---|',
      `| floor: longest frame, Experiments view idle (3 s) | ${live.idle.maxFrameMs.toFixed(1)} ms over ${live.idle.frames} frames | 1.00x |`,
      `| longest frame with 64 live series | ${live.live.maxFrameMs.toFixed(1)} ms over ${live.live.frames} frames (${live.live.over50} over 50 ms; ${live.live.longTasks} long tasks, longest ${live.live.maxLongTaskMs.toFixed(0)} ms) | ${(live.live.maxFrameMs / Math.max(live.idle.maxFrameMs, 1)).toFixed(2)}x of idle; target ≤ 50 ms: ${liveOk ? 'met' : 'MISSED'} |`,
      `| points held by the live chart at the end | ${pointsDrawn} | |`,
      `| renderer JS heap: before / largest / after | ${live.heapBefore.toFixed(1)} / ${live.heapMax.toFixed(1)} / ${live.heapAfter.toFixed(1)} MB | target < 300 MB: ${heapOk ? 'met' : 'MISSED'} |`,
      `| floor: Topology tab opening on a fresh page | ${formatSummary(floorSummary)} | 1.00x |`,
      `| Results view with ${RESULTS_RUNS.toLocaleString('en')} runs, runs index warm | ${formatSummary(warmSummary)} | ${(warmSummary.median / Math.max(floorSummary.median, 1)).toFixed(2)}x of floor; target < 1000 ms: ${warmSummary.max < 1000 ? 'met' : 'MISSED'} |`,
      `| the same, first open (runs index built from every run's files) | ${cold} ms | once per workspace; later opens read the index |`,
      '',
    ].join('\n');
  } finally {
    await browser?.close();
    await server?.close();
    await console.dispose();
  }
}
