// The current theme's colours for the diagram (ECharts draws on a canvas and cannot read CSS variables);
// reactive, so a chart re-renders when the user switches between light and dark.
import { computed, type ComputedRef } from 'vue';
import { PALETTES, type ThemePalette } from '../styles/palette';
import { useAppStore } from '../stores/app-store';

export function useThemeColors(): ComputedRef<ThemePalette> {
  const app = useAppStore();
  return computed(() => PALETTES[app.theme]);
}
