// The theme's colours as data for code that cannot read CSS (the ECharts diagram); the same values as the
// custom properties in theme.css, so a node's colour matches the status pills around it.
import { PRINT_PALETTE } from '@common/results/chart-palette';

export type ThemeName = 'light' | 'dark';

export interface ThemePalette {
  planned: string;
  applying: string;
  up: string;
  failed: string;
  text: string;
  textMuted: string;
  background: string;
  panel: string;
  border: string;
  accent: string;
}

export const PALETTES: Record<ThemeName, ThemePalette> = {
  light: {
    planned: '#8a94a6',
    applying: '#d08a16',
    up: '#1f8a4c',
    failed: '#c8322f',
    text: '#1f2329',
    textMuted: '#5c6573',
    background: '#f6f7f9',
    panel: '#ffffff',
    border: '#d5d9e0',
    accent: '#2f6fdb',
  },
  dark: {
    planned: '#7a8496',
    applying: '#e0a43c',
    up: '#4fbf7f',
    failed: '#f0635f',
    text: '#d8dce3',
    textMuted: '#8b94a3',
    background: '#111318',
    panel: '#181b21',
    border: '#2f3540',
    accent: '#5b93f0',
  },
};

/** What the results and live charts colour with: the theme's text and lines, and one colour per series. */
export type { ChartPalette } from '@common/results/chart-palette';

/** Series colours of the charts, one per mode or stream: distinguishable on both backgrounds and in print. */
export const SERIES_COLORS: Record<ThemeName, readonly string[]> = {
  light: PRINT_PALETTE.series,
  dark: ['#5b93f0', '#f08a4b', '#4fbf7f', '#b07cd8', '#e0a43c', '#3cc8c8', '#f06292', '#a0aec0'],
};
