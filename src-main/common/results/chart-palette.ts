// The colours a results chart needs, as data: the page passes its theme's, a report its print palette.
// Shared by the Results view and the bundle report, so both draw the same charts.
export interface ChartPalette {
  text: string;
  textMuted: string;
  border: string;
  accent: string;
  series: string[];
}

/** Light and print-safe: what a report or an exported SVG uses when there is no theme. */
export const PRINT_PALETTE: ChartPalette = {
  text: '#1f2329',
  textMuted: '#5c6573',
  border: '#d5d9e0',
  accent: '#2f6fdb',
  series: ['#2f6fdb', '#d0541b', '#1f8a4c', '#8e44ad', '#b7791f', '#16a2a2', '#c2185b', '#5d6d7e'],
};
