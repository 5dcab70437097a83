// Result bundles at scale (issue 7): export and import of 1,000 runs carrying about 50 MB of raw tool output
// in all (target: each under 3 s). The runs are the synthetic ones of the Results bench, written by the real
// run store, each with an iperf3 -J client document per run key under raw/ (intervals, per-stream figures
// drawn around the run's level: compressible like real output, deterministic). Export is what `cnlab bundle
// export` does (run folders, manifest, results.csv, report.html with the first 20 runs detailed and their
// charts); import is what `cnlab bundle import` does (every header judged, every SHA-256 verified, then the
// files written into a new folder). Floors, timed in the same run on the same tree: the system's
// `tar -czf` (export) and `tar -xzf` (import), which neither check nor report anything.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bundlePresentationFiles } from '../../src-main/api/report-runs';
import { extractBundleArchive } from '../../src-main/core/bundle/bundle-archive';
import { exportRunBundle } from '../../src-main/core/bundle/run-bundle';
import { RunStore } from '../../src-main/core/experiment/run-store';
import { syntheticRun, writeSyntheticRuns } from '../support/synthetic-runs';
import { formatSummary, summarise, type Summary } from './stats';

const run = promisify(execFile);
const RUNS = 1_000;
const REPEATS = 5;
const TARGET_MS = 3000;

/** A deterministic pseudo-random stream (the same on every machine). */
function jitter(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32 - 0.5;
  };
}

/** iperf3 3.12's -J layout: tab indentation and a tab after each colon. */
const iperf3Json = (value: unknown): string =>
  `${JSON.stringify(value, null, '\t')
    .replace(/": /g, '":\t')
    .replace(/\[\n\t+\{/g, '[{')
    .replace(/\},\n\t+\{/g, '}, {')
    .replace(/\}\n\t+\]/g, '}]')}\n`;

/** What `iperf3 -c … -J -t 3` prints for one run: start, one interval a second, end. */
export function iperf3ClientDocument(seed: number, gbits: number, blockSize: number, seconds = 3): string {
  const random = jitter(seed);
  const port = 40_000 + (seed % 20_000);
  const start = Date.UTC(2026, 0, 1) / 1000 + seed * 7;
  const intervals = [];
  let total = 0;
  let retransmits = 0;
  for (let second = 0; second < seconds; second++) {
    const begin = second === 0 ? 0 : Number((second + random() * 1e-4 + 5e-5).toFixed(6));
    const end = Number((second + 1 + random() * 1e-4 + 5e-5).toFixed(6));
    const length = end - begin;
    const bits = gbits * 1e9 * (1 + random() * 0.04);
    const bytes = Math.round((bits * length) / 8 / blockSize) * blockSize;
    const retrans = Math.max(0, Math.round(random() * 6));
    total += bytes;
    retransmits += retrans;
    const common = { start: begin, end, seconds: length, bytes, bits_per_second: (bytes * 8) / length, retransmits: retrans };
    intervals.push({
      streams: [{ socket: 5, ...common, snd_cwnd: 1_047_728 + Math.round(random() * 60_000) * 8, snd_wnd: 2_608_128, rtt: 23 + Math.round(random() * 18), rttvar: 8 + Math.round(random() * 6), pmtu: 1500, omitted: false, sender: true }],
      sum: { ...common, omitted: false, sender: true },
    });
  }
  const duration = Number((seconds + 5.2e-5).toFixed(6));
  const sent = { start: 0, end: duration, seconds: duration, bytes: total, bits_per_second: (total * 8) / duration, retransmits, sender: true };
  const receivedBytes = total - blockSize * Math.round(random() * 40 + 10);
  const received = { start: 0, end: duration + 1.59e-4, seconds: duration, bytes: receivedBytes, bits_per_second: (receivedBytes * 8) / duration, sender: true };
  const hostTotal = 70 + random() * 20;
  const remoteTotal = 60 + random() * 20;
  return iperf3Json({
    start: {
      connected: [{ socket: 5, local_host: '10.88.0.3', local_port: port, remote_host: '10.88.0.2', remote_port: 5201 + (seed % 100) }],
      version: 'iperf 3.12',
      system_info: 'Linux h2 6.18.44-fc-v595 #1 SMP PREEMPT_DYNAMIC @0 x86_64',
      timestamp: { time: new Date(start * 1000).toUTCString(), timesecs: start },
      connecting_to: { host: '10.88.0.2', port: 5201 + (seed % 100) },
      cookie: Array.from({ length: 36 }, () => 'abcdefghijklmnopqrstuvwxyz234567'.charAt(Math.floor((random() + 0.5) * 32))).join(''),
      tcp_mss_default: 1448,
      target_bitrate: 0,
      sock_bufsize: 0,
      sndbuf_actual: 16_384,
      rcvbuf_actual: 131_072,
      test_start: { protocol: 'TCP', num_streams: 1, blksize: blockSize, omit: 0, duration: seconds, bytes: 0, blocks: 0, reverse: 0, tos: 0, target_bitrate: 0 },
    },
    intervals,
    end: {
      streams: [{ sender: { socket: 5, ...sent, max_snd_cwnd: 1_572_864, max_snd_wnd: 2_608_128, max_rtt: 41, min_rtt: 23, mean_rtt: 29, sender: true }, receiver: { socket: 5, ...received } }],
      sum_sent: sent,
      sum_received: received,
      cpu_utilization_percent: { host_total: hostTotal, host_user: hostTotal * 0.02, host_system: hostTotal * 0.98, remote_total: remoteTotal, remote_user: remoteTotal * 0.04, remote_system: remoteTotal * 0.96 },
      sender_tcp_congestion: 'cubic',
      receiver_tcp_congestion: 'cubic',
    },
  });
}

/** Adds raw/<key>-iperf3-client.json (as the iperf3 executor saves them) to run number `index`; returns bytes written. */
export async function addRawOutput(runsDir: string, runId: string, index: number): Promise<number> {
  const { record } = syntheticRun(index);
  const dir = join(runsDir, runId, 'raw');
  let bytes = 0;
  await mkdir(dir, { recursive: true });
  for (const block of record.blocks) {
    for (const planned of block.runs) {
      const cell = record.cells[planned.cellIndex];
      const gbits = ({ bridge: 30, macvlan: 26, vxlan: 9 } as Record<string, number>)[cell?.caseLabel ?? ''] ?? 10;
      const blockSize = Number(cell?.axisValues.blockSize ?? 131_072);
      const text = iperf3ClientDocument(index * 1000 + planned.cellIndex * 10 + planned.repetition + (planned.warmup ? 5 : 0), gbits * (blockSize === 1400 ? 0.6 : 1), blockSize);
      await writeFile(join(dir, `${planned.key.replace(/[^A-Za-z0-9._-]/g, '_')}-iperf3-client.json`), text);
      bytes += text.length;
    }
  }
  return bytes;
}

async function treeBytes(dir: string): Promise<{ files: number; bytes: number }> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  let bytes = 0;
  let files = 0;
  for (const entry of entries.filter((item) => item.isFile())) {
    files++;
    bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { files, bytes };
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const ratio = (value: Summary, floor: Summary): string => `${(value.median / Math.max(floor.median, 1e-9)).toFixed(2)}x of floor`;
const verdict = (value: Summary): string => `target < ${TARGET_MS} ms: ${value.max < TARGET_MS ? 'met' : value.median < TARGET_MS ? 'met at the median' : 'MISSED'}`;

export async function benchBundles(): Promise<string> {
  const scratch = await mkdtemp(join(tmpdir(), 'cnlab-bench-bundles-'));
  try {
    const workspace = join(scratch, 'ws');
    const ids = await writeSyntheticRuns(workspace, RUNS);
    const store = new RunStore(workspace);
    let rawBytes = 0;
    for (const [index, runId] of ids.entries()) rawBytes += await addRawOutput(store.dir, runId, index);
    const tree = await treeBytes(store.dir);

    const exportMs: number[] = [];
    const floorExportMs: number[] = [];
    const importMs: number[] = [];
    const floorImportMs: number[] = [];
    // The same imports into tmpfs: this VM's disk creates files slowly and erratically (tar itself takes
    // 0.5 to 9 s for these 20,000 files), so the disk's share is also taken out.
    const memoryRoot = existsSync('/dev/shm') ? await mkdtemp('/dev/shm/cnlab-bench-bundles-') : null;
    const memoryImportMs: number[] = [];
    const memoryFloorImportMs: number[] = [];
    const bundle = join(scratch, 'bundle.tar.gz');
    const floorArchive = join(scratch, 'floor.tar.gz');
    let written = 0;
    // Alternating, so drift on a shared machine hits both sides alike.
    // Each timed step starts with the page cache's dirty pages written out (sync, untimed): otherwise one
    // step's writeback lands in the next step's time, whichever side that is.
    const flushed = () => run('sync', []);
    for (let repeat = 0; repeat < REPEATS; repeat++) {
      await flushed();
      let started = performance.now();
      await run('tar', ['-czf', floorArchive, '-C', workspace, 'runs']);
      floorExportMs.push(performance.now() - started);

      await flushed();
      started = performance.now();
      await exportRunBundle(store, ids, bundle, { extraFiles: (runs) => bundlePresentationFiles(runs) });
      exportMs.push(performance.now() - started);

      const floorTarget = join(scratch, `floor-import-${repeat}`);
      await mkdir(floorTarget);
      await flushed();
      started = performance.now();
      await run('tar', ['-xzf', floorArchive, '-C', floorTarget]);
      floorImportMs.push(performance.now() - started);

      const target = join(scratch, `import-${repeat}`);
      await flushed();
      started = performance.now();
      written = (await extractBundleArchive(bundle, target)).length;
      importMs.push(performance.now() - started);
      await rm(floorTarget, { recursive: true, force: true });
      await rm(target, { recursive: true, force: true });
      if (memoryRoot) {
        const memoryFloor = join(memoryRoot, `floor-${repeat}`);
        await mkdir(memoryFloor);
        started = performance.now();
        await run('tar', ['-xzf', floorArchive, '-C', memoryFloor]);
        memoryFloorImportMs.push(performance.now() - started);
        started = performance.now();
        await extractBundleArchive(bundle, join(memoryRoot, `import-${repeat}`));
        memoryImportMs.push(performance.now() - started);
        await rm(memoryRoot, { recursive: true, force: true });
        await mkdir(memoryRoot);
      }
    }
    if (memoryRoot) await rm(memoryRoot, { recursive: true, force: true });
    const [bundleSize, floorSize] = await Promise.all([stat(bundle), stat(floorArchive)]);
    const exportSummary = summarise(exportMs);
    const floorExport = summarise(floorExportMs);
    const importSummary = summarise(importMs);
    const floorImport = summarise(floorImportMs);
    return [
      '## Result bundles (issue 7)',
      '',
      `${RUNS.toLocaleString('en')} synthetic completed runs (the Results bench's, written by the real run store), each with an iperf3 -J client document per run key under raw/: ${tree.files.toLocaleString('en')} files, ${mb(tree.bytes)} in all, of which ${mb(rawBytes)} raw tool output. ${REPEATS} alternating repeats; min / median / max. Export: \`exportRunBundle\` with the report and charts as \`cnlab bundle export\` makes them (${mb(bundleSize.size)} written; the floor's archive ${mb(floorSize.size)}). Import: \`extractBundleArchive\` into a new folder, every header judged and every SHA-256 verified before the first write (${written.toLocaleString('en')} files). Floors: the system's \`tar -czf\` / \`tar -xzf\` on the same runs/ tree in the same run.`,
      '',
      '| figure | min / median / max | ratio (median) / target |',
      '|---|---|---|',
      `| floor: \`tar -czf\` of runs/ | ${formatSummary(floorExport)} | 1.00x |`,
      `| export, ${RUNS.toLocaleString('en')} runs | ${formatSummary(exportSummary)} | ${ratio(exportSummary, floorExport)}; ${verdict(exportSummary)} |`,
      `| floor: \`tar -xzf\` into a new folder | ${formatSummary(floorImport)} | 1.00x |`,
      `| import (verify, then extract), ${RUNS.toLocaleString('en')} runs | ${formatSummary(importSummary)} | ${ratio(importSummary, floorImport)}; ${verdict(importSummary)} |`,
      ...(memoryRoot
        ? [
            `| floor: \`tar -xzf\` into tmpfs (/dev/shm) | ${formatSummary(summarise(memoryFloorImportMs))} | 1.00x |`,
            `| import into tmpfs, ${RUNS.toLocaleString('en')} runs | ${formatSummary(summarise(memoryImportMs))} | ${ratio(summarise(memoryImportMs), summarise(memoryFloorImportMs))}; ${verdict(summarise(memoryImportMs))} |`,
          ]
        : []),
      '',
    ].join('\n');
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
