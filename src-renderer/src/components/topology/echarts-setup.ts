// Registers only the ECharts parts the console draws (graph, heat-map, lines, bars, error bars, their
// components; canvas on screen, SVG for exports), so the bundle does not carry all of ECharts. Imported by
// the chart components before they render.
import { use } from 'echarts/core';
import { BarChart, CustomChart, GraphChart, HeatmapChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer, SVGRenderer } from 'echarts/renderers';

use([GraphChart, HeatmapChart, LineChart, BarChart, CustomChart, GridComponent, LegendComponent, TitleComponent, TooltipComponent, VisualMapComponent, CanvasRenderer, SVGRenderer]);
