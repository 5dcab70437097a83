// Saving what the Results view shows: a chart as SVG (rendered afresh by the shared SSR renderer from the
// same option; the screen draws on a canvas), and any text or data URL handed to the browser as a download.
export { renderChartSvg } from '@common/results/chart-svg';

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
