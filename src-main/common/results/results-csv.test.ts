// Tables as CSV: labelled header with units, raw numbers, quoting, and formula cells escaped.
import { describe, expect, it } from 'vitest';
import { csvFileName, tableToCsv } from './results-csv';
import { throughputTable } from './results-tables';
import { THROUGHPUT_RUN } from './run-fixtures.test-support';

describe('results CSV', () => {
  it('writes a header with units and the raw numbers of every row', () => {
    const lines = tableToCsv(throughputTable(THROUGHPUT_RUN) ?? { columns: [], rows: [] }).trimEnd().split('\n');
    expect(lines).toHaveLength(7);
    expect(lines[0]).toBe('mode,blockSize,runs,median [Gbit/s],95% CI low [Gbit/s],95% CI high [Gbit/s],CV [%],vs bridge [%],95% CI low [%],95% CI high [%]');
    expect(lines[6]).toMatch(/^vxlan,65536,2,9\.41,9\.11,9\.71/);
    expect(lines[6]).toContain('-69');
  });

  it('quotes commas, quotes and newlines, and escapes cells a spreadsheet would run', () => {
    const csv = tableToCsv({
      columns: [{ key: 'a', label: 'name, with comma', numeric: false }, { key: 'b', label: 'note', numeric: false }],
      rows: [{ key: 'r', cells: { a: 'say "hi"\nthere', b: '=HYPERLINK("http://x")' } }],
    });
    expect(csv).toBe('"name, with comma",note\n"say ""hi""\nthere","\'=HYPERLINK(""http://x"")"\n');
    expect(csvFileName('compare modes/1', 'throughput')).toBe('compare-modes-1-throughput.csv');
    // A leading dot would make a hidden file on Linux and macOS.
    expect(csvFileName('../.hidden.', 'latency')).toBe('hidden-latency.csv');
  });
});
