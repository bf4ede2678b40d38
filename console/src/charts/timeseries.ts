// Time-series charts on uPlot: small, fast canvas charts; one wrapper so pages only pass data.
import uPlot from 'uplot';
import { h } from '../dom.ts';

export interface TimeChart {
  readonly element: HTMLElement;
  /** xs: epoch seconds ascending; one array of ys per series (null: no value at that time). */
  setData(xs: readonly number[], ys: readonly (readonly (number | null)[])[], labels?: readonly string[]): void;
  destroy(): void;
}

const PALETTE = ['#2f6fb3', '#d9822b', '#3a9a5b', '#b5477d', '#7d5bbd', '#8c6d3f', '#3b9ab2', '#c44e52', '#6b7b8c', '#a3a33a'];

export function seriesColor(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

export function timeChart(opts: { height?: number; yLabel?: string; format?: (v: number) => string }): TimeChart {
  const element = h('div', { class: 'chart' });
  let plot: uPlot | undefined;
  let labels: readonly string[] = [];
  let data: uPlot.AlignedData = [[]];
  const height = opts.height ?? 200;

  const build = (): void => {
    plot?.destroy();
    const width = Math.max(240, element.clientWidth || 600);
    plot = new uPlot(
      {
        width,
        height,
        // Event times are UTC (table.local-time-zone's default), so axes show UTC too.
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
        legend: { show: labels.length > 1 || !!opts.yLabel },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [
          { stroke: '#667', grid: { stroke: '#eef0f3' } },
          { stroke: '#667', grid: { stroke: '#eef0f3' }, size: 72, ...(opts.format ? { values: (_u: uPlot, vs: number[]) => vs.map((v) => opts.format!(v)) } : {}) },
        ],
        series: [{}, ...labels.map((label, i) => ({ label, stroke: seriesColor(i), width: 2, spanGaps: false, points: { show: false } }))],
      },
      data,
      element,
    );
  };

  const resize = new ResizeObserver(() => {
    if (plot && element.clientWidth > 0 && Math.abs(plot.width - element.clientWidth) > 4) plot.setSize({ width: element.clientWidth, height });
  });
  resize.observe(element);

  return {
    element,
    setData(xs, ys, ls) {
      const next = ls ?? ys.map((_, i) => opts.yLabel ?? `series ${i + 1}`);
      data = [xs as number[], ...(ys as (number | null)[][])] as uPlot.AlignedData;
      element.dataset['points'] = String(xs.length);
      element.dataset['series'] = String(ys.length);
      if (!plot || next.join('\u0000') !== labels.join('\u0000')) {
        labels = next;
        build();
      } else plot.setData(data);
    },
    destroy() {
      resize.disconnect();
      plot?.destroy();
      plot = undefined;
    },
  };
}
