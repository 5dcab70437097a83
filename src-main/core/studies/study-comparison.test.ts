import { describe, expect, it } from 'vitest';
import { resolveStudy } from './study-catalog';
import { compareWithStudy, missingStudy, type ComparedCell } from './study-comparison';

/** A cell whose metric has the given mean (= median here) and standard deviation over n runs. */
function cell(caseLabel: string, values: Record<string, [number, number, number]>, axisValues: ComparedCell['axisValues'] = {}, primary = 'launchMs'): ComparedCell {
  return {
    caseLabel,
    axisValues,
    primary: { name: primary, unit: 'ms' },
    metrics: Object.fromEntries(Object.entries(values).map(([name, [mean, stdDev, n]]) => [name, { n, mean, median: mean, stdDev: n > 1 ? stdDev : null }])),
  };
}

/** Our Table VI run: every case measured 10 times, launch times in the given order. */
function table6Cells(launch: Record<string, number>, n = 10): ComparedCell[] {
  return Object.entries(launch).map(([label, ms]) => cell(label, label === 'flannel' || label === 'calico-bgp' ? { launchMs: [ms / 4, ms / 200, n], peerFirstContainerMs: [ms, ms / 100, n] } : { launchMs: [ms, ms / 100, n] }));
}

const PAPER_ORDER = { none: 540, bridge: 660, container: 240, host: 500, nat: 675, 'docker-overlay': 10980, flannel: 3970, 'calico-bgp': 11335 };

describe('a Table VI run beside the paper', () => {
  it('sets each published time relative to none beside ours relative to our none, with the interval', async () => {
    const study = await resolveStudy('suo2018-table6');
    const view = compareWithStudy(study, 'launch', table6Cells({ ...PAPER_ORDER, none: 200, bridge: 250 }));
    const bridge = view.rows.find((row) => row.id === 'bridge');
    expect(bridge?.paperPercent).toBeCloseTo(((663.1 - 539.6) / 539.6) * 100, 10);
    expect(bridge?.ours?.percent).toBeCloseTo(25, 10);
    expect(bridge?.ours?.ci95?.low).toBeLessThan(25);
    expect(bridge?.ours?.ci95?.high).toBeGreaterThan(25);
    expect(bridge?.ours?.significant).toBe(true);
    expect(bridge?.measures).toBe('bridge vs none');
    // Flannel and Calico are timed from the peer (their control plane's propagation), against none's own launch.
    const flannel = view.rows.find((row) => row.id === 'flannel');
    expect(flannel?.measures).toBe('flannel vs none');
    expect(flannel?.ours?.value).toBe(3970);
    expect(flannel?.ours?.reference).toBe(200);
    expect(view.rows.find((row) => row.id === 'docker-overlay')?.ours?.value).toBe(10980);
    const weave = view.rows.find((row) => row.id === 'weave');
    expect(weave).toMatchObject({ ours: null, note: 'not reproduced here (see the substitutions)', paperValue: 2365.2 });
    expect(weave?.location).toEqual({ where: 'Table VI, multiple hosts', quote: 'Weave 2,365.2 ms' });
  });

  it('says the ranking holds when ours orders the networks as the paper does (tau-b 1), and not when reversed', async () => {
    const study = await resolveStudy('suo2018-table6');
    const same = compareWithStudy(study, 'launch', table6Cells(PAPER_ORDER)).findings.find((finding) => finding.id === 'ranking');
    expect(same).toMatchObject({ verdict: 'holds', tau: 1 });
    expect(same?.detail).toMatch(/^Kendall's tau-b 1\.00 over 8 networks \(holds at ≥ 0\.60\); paper: container < host < none < bridge < nat < flannel < docker-overlay < calico-bgp; here: container < host/);
    const reversed = Object.fromEntries(Object.entries(PAPER_ORDER).map(([label, ms]) => [label, 20000 - ms]));
    const flipped = compareWithStudy(study, 'launch', table6Cells(reversed)).findings.find((finding) => finding.id === 'ranking');
    expect(flipped?.verdict).toBe('does-not-hold');
    expect(flipped?.tau).toBe(-1);
  });

  it('checks directions with Welch intervals: holds, does not hold, and inconclusive with a single run', async () => {
    const study = await resolveStudy('suo2018-table6');
    const verdict = (cells: ComparedCell[], id: string) => compareWithStudy(study, 'launch', cells).findings.find((finding) => finding.id === id);
    expect(verdict(table6Cells(PAPER_ORDER), 'container-fastest')?.verdict).toBe('holds');
    // Container as slow as none: no significant difference.
    const slow = verdict(table6Cells({ ...PAPER_ORDER, container: 540 }), 'container-fastest');
    expect(slow?.verdict).toBe('does-not-hold');
    expect(slow?.detail).toMatch(/: no difference beyond ±5 % on these hosts$/);
    // The same means with a wide spread: nothing shown either way.
    const noisy = table6Cells({ ...PAPER_ORDER, container: 520 }).map((item) => (item.caseLabel === 'container' ? cell('container', { launchMs: [520, 300, 3] }) : item));
    expect(verdict(noisy, 'container-fastest')).toMatchObject({ verdict: 'inconclusive', detail: expect.stringMatching(/the interval is too wide to rule one out; add repetitions$/) });
    expect(verdict(table6Cells({ ...PAPER_ORDER, container: 700 }), 'container-fastest')?.detail).toMatch(/significantly higher on these hosts$/);
    expect(verdict(table6Cells(PAPER_ORDER, 1), 'container-fastest')).toMatchObject({ verdict: 'inconclusive', detail: expect.stringMatching(/a single run\): add repetitions to test it$/) });
  });

  it('checks "about as fast" against the tolerance with the whole interval', async () => {
    const study = await resolveStudy('suo2018-table6');
    const verdict = (cells: ComparedCell[]) => compareWithStudy(study, 'launch', cells).findings.find((finding) => finding.id === 'host-like-none');
    expect(verdict(table6Cells({ ...PAPER_ORDER, host: 520 }))?.verdict).toBe('holds');
    expect(verdict(table6Cells({ ...PAPER_ORDER, host: 900 }))?.verdict).toBe('does-not-hold');
    const wide = table6Cells({ ...PAPER_ORDER, host: 640 }).map((item) => (item.caseLabel === 'host' ? cell('host', { launchMs: [640, 200, 3] }) : item));
    expect(verdict(wide)).toMatchObject({ verdict: 'inconclusive', detail: expect.stringMatching(/the interval reaches beyond it/) });
  });

  it('marks what this run did not measure, naming the missing cell', async () => {
    const study = await resolveStudy('suo2018-table6');
    const cells = table6Cells(PAPER_ORDER).filter((item) => item.caseLabel !== 'calico-bgp');
    const view = compareWithStudy(study, 'launch', cells);
    expect(view.findings.find((finding) => finding.id === 'bgp-slow')).toMatchObject({ verdict: 'not-measured', detail: 'no cell of case calico-bgp in this run' });
    expect(view.findings.find((finding) => finding.id === 'ranking')?.detail).toMatch(/over 7 networks .*; not in this comparison: Calico \(BGP\)/);
    expect(view.rows.find((row) => row.id === 'calico-bgp')?.note).toBe('no cell of case calico-bgp in this run');
  });
});

describe('findings over axes', () => {
  it('compares two changes (TCP loses more than UDP) and trends along the message size', async () => {
    const study = await resolveStudy('suo2018-fig5-6');
    const cells: ComparedCell[] = [];
    for (const protocol of ['tcp', 'udp']) {
      for (const size of [16, 64, 256, 1024]) {
        const scale = protocol === 'tcp' ? 1 : 0.5;
        cells.push(cell('baseline', { messagesPerSecond: [1000 * size * scale, 10, 3] }, { protocol, messageSize: size }, 'messagesPerSecond'));
        cells.push(cell('host', { messagesPerSecond: [1000 * size * scale, 10, 3] }, { protocol, messageSize: size }, 'messagesPerSecond'));
        const overlayLoss = protocol === 'tcp' ? 0.2 : 0.6;
        cells.push(cell('docker-overlay', { messagesPerSecond: [1000 * size * scale * overlayLoss, 10, 3] }, { protocol, messageSize: size }, 'messagesPerSecond'));
      }
    }
    const view = compareWithStudy(study, 'sizes', cells);
    const finding = (id: string) => view.findings.find((item) => item.id === id);
    expect(finding('overlay-tcp-worse-than-udp')).toMatchObject({ verdict: 'holds' });
    expect(finding('overlay-tcp-worse-than-udp')?.detail).toMatch(/^docker-overlay \(protocol tcp, messageSize 256\) vs baseline \(protocol tcp, messageSize 256\): −80\.0 %/);
    expect(finding('baseline-scales')).toMatchObject({ verdict: 'holds', tau: 1 });
    expect(finding('host-close-1024')?.verdict).toBe('holds');
    expect(finding('bgp-tcp-worse-than-udp')?.verdict).toBe('not-measured');
    const overlayRow = view.rows.find((row) => row.id === 'overlays-tcp');
    expect(overlayRow?.paperPercent).toBe(-82);
    expect(overlayRow?.ours?.percent).toBeCloseTo(-80, 6);
    expect(view.rows.find((row) => row.id === 'nat-tcp')?.ours).toBeNull();
  });

  it('ranks an extreme and compares against the same case at other axis values (interference)', async () => {
    const fig8 = await resolveStudy('suo2018-fig8');
    const cells = ['host', 'calico-bgp', 'flannel', 'docker-overlay'].flatMap((label, index) => [
      cell(label, { messagesPerSecond: [1000, 5, 5] }, { interferers: 0 }, 'messagesPerSecond'),
      cell(label, { messagesPerSecond: [900 - index * 100, 5, 5] }, { interferers: 5 }, 'messagesPerSecond'),
    ]);
    const view = compareWithStudy(fig8, 'busy', cells);
    expect(view.findings.find((finding) => finding.id === 'overlay-loses')).toMatchObject({ verdict: 'holds', detail: expect.stringMatching(/^docker-overlay \(interferers 5\) vs docker-overlay \(interferers 0\): −40\.0 %/) });
    expect(view.findings.find((finding) => finding.id === 'overlay-hurt-more-than-bgp')?.verdict).toBe('holds');
    const fig4 = await resolveStudy('suo2018-fig4');
    const throughput = ['baseline', 'host', 'docker-overlay', 'flannel', 'calico-bgp'].map((label, index) => cell(label, { messagesPerSecond: [[100, 98, 20, 25, 60][index] as number, 1, 5] }, {}, 'messagesPerSecond'));
    expect(compareWithStudy(fig4, 'throughput', throughput).findings.find((finding) => finding.id === 'overlay-slowest')).toMatchObject({ verdict: 'holds', detail: expect.stringMatching(/^docker-overlay has the smallest median messagesPerSecond, significantly/) });
    throughput[4] = cell('calico-bgp', { messagesPerSecond: [10, 1, 5] }, {}, 'messagesPerSecond');
    expect(compareWithStudy(fig4, 'throughput', throughput).findings.find((finding) => finding.id === 'overlay-slowest')).toMatchObject({ verdict: 'does-not-hold', detail: expect.stringMatching(/^calico-bgp has the smallest messagesPerSecond, not docker-overlay/) });
  });

  it('says when a template is missing or names no such part', async () => {
    expect(missingStudy('suo2031-x', 'a').missing).toMatch(/study template suo2031-x is not in this cnlab/);
    const study = await resolveStudy('suo2018-table6');
    expect(compareWithStudy(study, 'gone', []).missing).toBe('study suo2018-table6 has no part gone in this cnlab');
  });
});
