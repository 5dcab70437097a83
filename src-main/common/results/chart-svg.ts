// A results chart as an SVG string, rendered by ECharts' server-side SVG renderer from the same option the
// screen draws: no DOM needed, so the page's export, the bundle's charts and the report share it.
import { init, use } from 'echarts/core';
import { BarChart, CustomChart, LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TitleComponent, TooltipComponent } from 'echarts/components';
import { SVGRenderer } from 'echarts/renderers';

// Tooltip too: the options carry one for the screen, and ECharts warns about every unregistered part.
use([BarChart, CustomChart, LineChart, GridComponent, LegendComponent, TitleComponent, TooltipComponent, SVGRenderer]);

export function renderChartSvg(option: Record<string, unknown>, width: number, height: number): string {
  const chart = init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ ...option, animation: false });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}
