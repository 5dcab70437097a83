// The host sampler: /proc parsing and deltas on a real capture of its loop, and the loop itself on this machine.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LocalExecutor } from '../exec/local-executor';
import type { HostExecutor } from '../exec/executor';
import { diffSnapshots, intervalSamples, parseProcNetDev, parseProcStat, parseSnapshot, SnapshotReader, startHostSampler, summarize, type Snapshot } from './host-samplers';
import type { LiveSample, WorkloadContext } from './workload-context';

const capture = readFileSync(new URL('./fixtures/host-sampler-loop.txt', import.meta.url), 'utf8');
const LINK = 'c0a1bv00000a001';

function snapshots(): Snapshot[] {
  const reader = new SnapshotReader();
  return capture.split('\n').flatMap((line) => reader.push(line) ?? []);
}

describe('parsers', () => {
  it('read the cpu lines of /proc/stat (busy = user+nice+system+irq+softirq; total adds idle, iowait, steal)', () => {
    const stat = parseProcStat('cpu  411739 0 107832 1416756 3029 0 14309 55746 0 0\ncpu0 197254 0 52746 718858 431 0 7426 27770 0 0\nintr 1 2 3\n');
    expect(stat.all).toEqual({ busy: 411739 + 107832 + 14309, softirq: 14309, total: 411739 + 107832 + 14309 + 1416756 + 3029 + 55746 });
    expect([...stat.cpus.keys()]).toEqual(['cpu0']);
  });

  it('read /proc/net/dev, also a 15-character name touching its first counter', () => {
    const text = capture.split('@@tick')[0] ?? '';
    const interfaces = parseProcNetDev(text);
    expect([...interfaces.keys()]).toEqual(['lo', LINK]);
    expect(interfaces.get(LINK)).toEqual({ rxBytes: 1084, rxPackets: 2, txBytes: 1260, txPackets: 4 });
  });

  it('cut the loop output into one snapshot per tick', () => {
    const all = snapshots();
    expect(all.map((snapshot) => snapshot.uptime)).toEqual([10044.82, 10045.82, 10046.83]);
    expect([...(all[0]?.cpus.keys() ?? [])]).toEqual(['cpu0', 'cpu1']);
    expect(parseSnapshot('Inter-|\n')).toBeNull();
  });
});

describe('deltas', () => {
  it('give busy % of all CPUs, busy CPU-seconds, softirq % per CPU and link rates', () => {
    const [first, second] = snapshots() as [Snapshot, Snapshot];
    const interval = diffSnapshots(first, second, ['c0a1b']);
    // cpu: busy 534049-533880 = 169 of 2009613-2009411 = 202 jiffies.
    expect(interval?.seconds).toBeCloseTo(1, 6);
    expect(interval?.busyPercent).toBeCloseTo((100 * 169) / 202, 6);
    expect(interval?.busyCpuSeconds).toBeCloseTo((169 / 202) * 2 * 1, 6);
    // cpu0: softirq 7427-7426 = 1 of 1004586-1004485 = 101 jiffies.
    expect(interval?.softirqPercentByCpu.cpu0).toBeCloseTo(100 / 101, 6);
    expect(interval?.interfaces).toEqual({
      [LINK]: expect.objectContaining({ rxBytes: 64780, txBytes: 64944, rxPackets: 64, txPackets: 66 }) as object,
    });
    expect(interval?.interfaces[LINK]?.rxBytesPerSecond).toBeCloseTo(64780, 3);
  });

  it('count only interfaces with a listed prefix, and skip counters that went backwards', () => {
    const [first, second] = snapshots() as [Snapshot, Snapshot];
    expect(Object.keys(diffSnapshots(first, second, [])?.interfaces ?? {})).toEqual([]);
    expect(Object.keys(diffSnapshots(second, { ...second, uptime: second.uptime + 1, all: { ...second.all, total: second.all.total + 200 }, interfaces: first.interfaces }, ['c'])?.interfaces ?? {})).toEqual([]);
    expect(diffSnapshots(first, first, ['c'])).toBeNull();
  });

  it('summarize time-weighted and name the samples by host, CPU and interface', () => {
    const [a, b, c] = snapshots() as [Snapshot, Snapshot, Snapshot];
    const intervals = [diffSnapshots(a, b, ['c']), diffSnapshots(b, c, ['c'])].filter((interval) => interval !== null);
    const summary = summarize('h1', intervals);
    expect(summary?.intervals).toBe(2);
    expect(summary?.seconds).toBeCloseTo(2.01, 6);
    const expectedBusy = ((intervals[0]?.busyPercent ?? 0) * 1 + (intervals[1]?.busyPercent ?? 0) * 1.01) / 2.01;
    expect(summary?.averageBusyPercent).toBeCloseTo(expectedBusy, 6);
    expect(summary?.busyCpuSeconds).toBeCloseTo((intervals[0]?.busyCpuSeconds ?? 0) + (intervals[1]?.busyCpuSeconds ?? 0), 6);
    expect(summary?.interfaces[LINK]?.rxBytes).toBe(128634 - 1084);
    expect(summarize('h1', [])).toBeNull();
    const sources = intervalSamples(intervals[0] as NonNullable<(typeof intervals)[0]>, 1, 'h1').map((sample) => `${sample.metric}@${sample.source}`);
    expect(sources).toEqual(['cpuPercent@h1', 'softirqPercent@h1/cpu0', 'softirqPercent@h1/cpu1', ...['rxBytesPerSecond', 'txBytesPerSecond', 'rxPacketsPerSecond', 'txPacketsPerSecond'].map((metric) => `${metric}@h1/${LINK}`)]);
  });
});

describe('startHostSampler on this machine', () => {
  it('streams live samples each second and summarizes the run', async () => {
    const local = new LocalExecutor('here');
    const unprivileged: HostExecutor = { hostName: 'here', exec: (command, options) => local.exec(command, { ...options, privileged: false }), runScript: (script) => local.runScript(script), privilege: () => local.privilege(), close: () => Promise.resolve() };
    const samples: LiveSample[] = [];
    const ctx: WorkloadContext = { executor: () => unprivileged, signal: new AbortController().signal, logCommand: () => undefined, sample: (sample) => samples.push(sample), saveRaw: () => Promise.resolve(), allocatePort: () => 0, toolVersion: () => null };
    const sampler = startHostSampler(ctx, 'here', { interfacePrefixes: ['lo'], label: 'local' });
    await new Promise((resolve) => setTimeout(resolve, 2300));
    const summary = await sampler.stop();
    expect(summary.intervals).toBeGreaterThanOrEqual(2);
    expect(summary.seconds).toBeGreaterThan(1.5);
    expect(summary.averageBusyPercent).toBeGreaterThanOrEqual(0);
    expect(summary.averageBusyPercent).toBeLessThanOrEqual(100);
    expect(Object.keys(summary.softirqPercentByCpu).length).toBeGreaterThan(0);
    expect(Object.keys(summary.interfaces)).toEqual(['lo']);
    expect(samples.filter((sample) => sample.metric === 'cpuPercent' && sample.source === 'local').length).toBeGreaterThanOrEqual(2);
  });
});
