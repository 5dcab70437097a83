// Saving what the Results view shows: a chart as SVG, rendered afresh by ECharts' SVG renderer from the
// same option (the screen draws on a canvas), and any text or data URL handed to the browser as a download.
import '../components/topology/echarts-setup';
import { init } from 'echarts/core';

export function renderChartSvg(option: Record<string, unknown>, width: number, height: number): string {
  // Server-side rendering needs no DOM node and works the same in the page and in tests.
  const chart = init(null, null, { renderer: 'svg', ssr: true, width, height });
  try {
    chart.setOption({ ...option, animation: false });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

export function downloadDataUrl(fileName: string, url: string): void {
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  anchor.rel = 'noopener';
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
}

export function downloadText(fileName: string, mime: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: `${mime};charset=utf-8` }));
  downloadDataUrl(fileName, url);
  // The click has handed the blob to the browser; release it once the download has begun.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
