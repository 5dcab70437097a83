// Tests of the sockperf --full-log parser on a real sockperf 3.7 capture (-t 1 --mps 200, loopback):
// the samples must match the log's rows exactly and agree with the summary printed in the same file.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CnlabError } from '../../errors';
import { parseSockperfFullLog } from './full-log-parser';

const text = readFileSync(join(__dirname, 'fixtures', 'sockperf-3.7-full-log.csv'), 'utf8');

describe('parseSockperfFullLog', () => {
  const log = parseSockperfFullLog(text, { fullRtt: false });

  it('reads one latency sample per message row, in µs', () => {
    expect(log.rttMode).toBe('half');
    expect(log.samplesUs).toHaveLength(108);
    expect(log.samplesUs.slice(0, 3)).toEqual([51.159, 44.317, 46.393]);
    expect(log.samplesUs.at(-1)).toBe(54.761);
  });

  it('keeps the parameters line', () => {
    expect(log.parameters).toBe('--mps=200 --burst=1 --reply-every=1 --msg-size=14 --time=1');
  });

  it('gives the extremes of the summary sockperf printed for that run, within its last digit', () => {
    expect(Math.min(...log.samplesUs)).toBe(25.907);
    // The log rounds to 3 decimals (2310.275) where the summary printed 2310.274.
    expect(Math.abs(Math.max(...log.samplesUs) - 2310.274)).toBeLessThanOrEqual(0.0011);
  });

  it('refuses a half-round-trip log described as --full-rtt', () => {
    const run = (): unknown => parseSockperfFullLog(text, { fullRtt: true });
    expect(run).toThrow(CnlabError);
    expect(run).toThrow(/half round trips/);
  });

  it('rejects text without the table header, and a malformed row', () => {
    expect(() => parseSockperfFullLog('nothing here', { fullRtt: false })).toThrow(/full-log table/);
    const broken = text.replace('1, 2.413978377', '1, banana');
    expect(() => parseSockperfFullLog(broken, { fullRtt: false })).toThrow(/full-log row/);
  });
});
