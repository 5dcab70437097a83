// netperf's THROUGHPUT_UNITS strings and what one unit is worth: its -f letters k/m/g are powers of ten of
// bits, but K/M/G are powers of two of bytes, so one table keeps that asymmetry in a single place.

export type ThroughputKind = 'bits' | 'transactions';

interface UnitScale {
  kind: ThroughputKind;
  factor: number;
}

const SCALES: Readonly<Record<string, UnitScale>> = {
  '10^0bits/s': { kind: 'bits', factor: 1 },
  '10^3bits/s': { kind: 'bits', factor: 1e3 },
  '10^6bits/s': { kind: 'bits', factor: 1e6 },
  '10^9bits/s': { kind: 'bits', factor: 1e9 },
  'Bytes/s': { kind: 'bits', factor: 8 },
  'KBytes/s': { kind: 'bits', factor: 8 * 1024 },
  'MBytes/s': { kind: 'bits', factor: 8 * 1024 ** 2 },
  'GBytes/s': { kind: 'bits', factor: 8 * 1024 ** 3 },
  'Trans/s': { kind: 'transactions', factor: 1 },
};

export function throughputScale(units: string): UnitScale | null {
  return SCALES[units.trim()] ?? null;
}

export function expectedKind(test: string): ThroughputKind {
  return test.endsWith('_RR') ? 'transactions' : 'bits';
}
