// Frame timing inside a Chromium page for UI benchmarks: gaps between animation frames and Chromium's long
// tasks, started and read with page.evaluate (the console's CSP forbids string evaluation in the page itself).
import type { Page } from 'playwright-core';

export const FRAME_MONITOR = `(() => {
  const frames = { deltas: [], long: [], running: true };
  window.__cnlabFrames = frames;
  const observer = new PerformanceObserver((list) => { for (const entry of list.getEntries()) frames.long.push(entry.duration); });
  observer.observe({ type: 'longtask' });
  let last = performance.now();
  const tick = (now) => { frames.deltas.push(now - last); last = now; if (frames.running) requestAnimationFrame(tick); else observer.disconnect(); };
  requestAnimationFrame(tick);
})()`;

export interface FrameStats {
  maxFrameMs: number;
  over50: number;
  frames: number;
  longTasks: number;
  maxLongTaskMs: number;
}

export async function stopMonitor(page: Page): Promise<FrameStats> {
  const frames = await page.evaluate<{ deltas: number[]; long: number[] }>('(() => { const f = window.__cnlabFrames; f.running = false; return { deltas: f.deltas, long: f.long }; })()');
  // The first gap spans the monitor's own start.
  const deltas = frames.deltas.slice(1);
  return { maxFrameMs: Math.max(0, ...deltas), over50: deltas.filter((delta) => delta > 50).length, frames: deltas.length, longTasks: frames.long.length, maxLongTaskMs: Math.max(0, ...frames.long) };
}

/** Polls a count from the page (waitForFunction would eval a string, which the console's CSP forbids). */
export async function waitForCount(count: () => Promise<number>, wanted: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await count()) !== wanted) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for a count of ${wanted}, have ${await count()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

