// The current theme's colours for the diagram and the charts (ECharts draws on a canvas and cannot read CSS);
// reactive, so a chart re-renders when the user switches between light and dark.
import { computed, type ComputedRef } from 'vue';
import { PALETTES, SERIES_COLORS, type ChartPalette, type ThemePalette } from '../styles/palette';
import { useAppStore } from '../stores/app-store';

export function useThemeColors(): ComputedRef<ThemePalette> {
  const app = useAppStore();
  return computed(() => PALETTES[app.theme]);
}

export function useChartColors(): ComputedRef<ChartPalette> {
  const app = useAppStore();
  return computed(() => {
    const palette = PALETTES[app.theme];
    return { text: palette.text, textMuted: palette.textMuted, border: palette.border, accent: palette.accent, series: [...SERIES_COLORS[app.theme]] };
  });
}
