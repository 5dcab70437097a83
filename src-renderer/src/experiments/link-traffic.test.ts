// Link rates for the live diagram: the newest counter per host interface, stale after 3 s, drawn by a
// log-scale width and a colour by share of the busiest link.
import { describe, expect, it } from 'vitest';
import { formatBitsPerSecond, LinkRates, trafficStyle } from './link-traffic';

describe('LinkRates', () => {
  it('keeps the newest rate per host interface, as bits per second of the busier direction', () => {
    const rates = new LinkRates();
    rates.push([
      { t: 1, metric: 'rxBytesPerSecond', value: 1e9, source: 'h1/cab12v111' },
      { t: 1, metric: 'txBytesPerSecond', value: 2e6, source: 'h1/cab12v111' },
      { t: 1, metric: 'cpuPercent', value: 50, source: 'h1' },
    ], 1_000);
    expect(rates.rateOf('h1', 'cab12v111', 1_500)).toEqual({ bitsPerSecond: 8e9, at: 1_000 });
    expect(rates.rateOf('h2', 'cab12v111', 1_500)).toBeNull();
    expect(rates.rateOf('h1', 'cab12v111', 4_500)).toBeNull();
    rates.reset();
    expect(rates.rateOf('h1', 'cab12v111', 1_500)).toBeNull();
  });
});

describe('trafficStyle', () => {
  it('draws busy links wide and hot, idle and uncounted links thin', () => {
    expect(trafficStyle(null, 1e10)).toEqual({ width: 1, color: 'idle', label: 'no counter' });
    expect(trafficStyle(10, 1e10)).toEqual({ width: 1, color: 'idle', label: 'idle' });
    expect(trafficStyle(1e10, 1e10)).toEqual({ width: 8, color: 'high', label: '10.0 Gbit/s' });
    const mid = trafficStyle(3e9, 1e10);
    expect(mid.color).toBe('mid');
    expect(mid.width).toBeGreaterThan(4);
    expect(trafficStyle(1e6, 1e10).color).toBe('low');
  });

  it('formats rates with their unit', () => {
    expect(formatBitsPerSecond(9.41e9)).toBe('9.41 Gbit/s');
    expect(formatBitsPerSecond(123.4e6)).toBe('123 Mbit/s');
    expect(formatBitsPerSecond(999)).toBe('999 bit/s');
  });
});
