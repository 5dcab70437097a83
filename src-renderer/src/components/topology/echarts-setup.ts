// Registers only the ECharts parts the Topology view draws (graph, heat-map, their components, canvas),
// so the bundle does not carry all of ECharts. Imported by the chart components before they render.
import { use } from 'echarts/core';
import { GraphChart, HeatmapChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

use([GraphChart, HeatmapChart, GridComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);
