// Tests of the sockperf latency parser on real sockperf 3.7 loopback captures and a hand-built 3.8+ summary.
// Values are the exact numbers in the fixtures, so a regex that drifts by one field fails loudly.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSockperfLatency } from './latency-parser';
import { thrownCnlabError as thrown } from '../../../../tests/support/cnlab-error';

const fixture = (name: string): string => readFileSync(join(__dirname, 'fixtures', name), 'utf8');


describe('parseSockperfLatency on sockperf 3.7 ping-pong', () => {
  const result = parseSockperfLatency(fixture('sockperf-3.7-ping-pong.txt'), { fullRtt: false });

  it('reads the average and std-dev through the colour codes, as half round trips', () => {
    expect(result.rttMode).toBe('half');
    expect(result.avgUs).toBe(4.331);
    expect(result.stdDevUs).toBe(4.338);
    expect(result.dispersion).toBeNull();
  });

  it('reads every percentile line in ascending order, with MIN and MAX apart', () => {
    expect(result.percentiles).toEqual([
      { p: 25, valueUs: 2.972 },
      { p: 50, valueUs: 3.204 },
      { p: 75, valueUs: 6.019 },
      { p: 90, valueUs: 6.129 },
      { p: 99, valueUs: 8.031 },
      { p: 99.9, valueUs: 13.307 },
      { p: 99.99, valueUs: 53.038 },
      { p: 99.999, valueUs: 677.602 },
    ]);
    expect(result.minUs).toBe(1.905);
    expect(result.maxUs).toBe(915.43);
  });

  it('reads observations, run counters and the loss counters', () => {
    expect(result.observations).toBe(177984);
    expect(result.totalRun).toEqual({ durationSec: 2, warmupMs: 400, sentMessages: 222994, receivedMessages: 222993 });
    expect(result.validDuration).toEqual({ durationSec: 1.55, sentMessages: 177984, receivedMessages: 177984 });
    expect(result.droppedMessages).toBe(0);
    expect(result.duplicatedMessages).toBe(0);
    expect(result.outOfOrderMessages).toBe(0);
  });
});

describe('parseSockperfLatency on other 3.7 runs', () => {
  it('reads a --full-rtt run (sockperf prints avg-rtt) as full round trips', () => {
    const result = parseSockperfLatency(fixture('sockperf-3.7-ping-pong-full-rtt.txt'), { fullRtt: true });
    expect(result.rttMode).toBe('full');
    expect(result.avgUs).toBe(17.384);
    expect(result.stdDevUs).toBe(22.341);
    expect(result.percentiles.find((entry) => entry.p === 50)?.valueUs).toBe(15.502);
    expect(result.maxUs).toBe(2874.329);
    expect(result.observations).toBe(88856);
  });

  it('refuses to label a full-rtt output as half, and a half output as full', () => {
    const fullRttText = fixture('sockperf-3.7-ping-pong-full-rtt.txt');
    const asHalf = thrown(() => parseSockperfLatency(fullRttText, { fullRtt: false }));
    expect(asHalf.code).toBe('invalid-input');
    expect(asHalf.details).toMatchObject({ printedRttMode: 'full', expectedRttMode: 'half' });
    const asFull = thrown(() => parseSockperfLatency(fixture('sockperf-3.7-ping-pong.txt'), { fullRtt: true }));
    expect(asFull.code).toBe('invalid-input');
  });

  it('reads a -m 1024 run', () => {
    const result = parseSockperfLatency(fixture('sockperf-3.7-ping-pong-m1024.txt'), { fullRtt: false });
    expect(result.avgUs).toBe(4.361);
    expect(result.stdDevUs).toBe(26.943);
    expect(result.observations).toBe(176880);
  });

  it('reads an under-load run, where only some messages are answered', () => {
    const result = parseSockperfLatency(fixture('sockperf-3.7-under-load.txt'), { fullRtt: false });
    expect(result.avgUs).toBe(106.214);
    expect(result.validDuration).toEqual({ durationSec: 1.52, sentMessages: 15201, receivedMessages: 153 });
    expect(result.observations).toBe(153);
    expect(result.percentiles.find((entry) => entry.p === 99)?.valueUs).toBe(948.001);
  });
});

describe('parseSockperfLatency on the 3.8+ summary shape', () => {
  const result = parseSockperfLatency(fixture('sockperf-3.8-ping-pong-handmade.txt'), { fullRtt: false });

  it('still reads average and std-dev', () => {
    expect(result.avgUs).toBe(4.331);
    expect(result.stdDevUs).toBe(4.338);
  });

  it('reads the added dispersion fields and the confidence interval', () => {
    expect(result.dispersion).toEqual({
      meanAdUs: 1.512,
      medianAdUs: 0.402,
      siqrUs: 1.524,
      cv: 1.002,
      stdErrorUs: 0.01,
      confidenceInterval: { levelPercent: 99, lowUs: 4.305, highUs: 4.357 },
    });
  });
});

describe('parseSockperfLatency on unusable output', () => {
  it('rejects garbage with command-failed', () => {
    const error = thrown(() => parseSockperfLatency('hello\nworld\n', { fullRtt: false }));
    expect(error.code).toBe('command-failed');
    expect(error.details).toMatchObject({ tool: 'sockperf', problem: 'unrecognised-output' });
  });

  it("quotes sockperf's own error line", () => {
    const error = thrown(() =>
      parseSockperfLatency('sockperf: ERROR: Message received was larger than expected\n', { fullRtt: false }),
    );
    expect(error.code).toBe('command-failed');
    expect(error.message).toContain('ERROR: Message received was larger than expected');
    expect(error.details).toMatchObject({ problem: 'tool-error' });
  });

  it('rejects a summary cut right after its average line', () => {
    const cut = fixture('sockperf-3.7-ping-pong.txt').split('\n').slice(0, 12).join('\n');
    const error = thrown(() => parseSockperfLatency(cut, { fullRtt: false }));
    expect(error.code).toBe('command-failed');
    expect(error.message).toBe('sockperf printed no observation count');
  });
});
