// A horizontal bar chart drawn as HTML: labels stay readable (long Chinese topic names wrap), and no
// canvas is needed for a top-N list.
import { fill, h } from '../dom.ts';
import { cellText, fmtInt } from '../format.ts';

export interface Bar {
  readonly label: unknown;
  readonly value: number;
}

export function barChart(): { element: HTMLElement; setData(bars: readonly Bar[]): void } {
  const element = h('div', { class: 'bars', role: 'list' });
  return {
    element,
    setData(bars) {
      const max = Math.max(1, ...bars.map((b) => b.value));
      element.dataset['bars'] = String(bars.length);
      fill(
        element,
        bars.length === 0
          ? h('p', { class: 'muted' }, 'No rows yet.')
          : bars.map((b) =>
              h(
                'div',
                { class: 'bar-row', role: 'listitem', 'data-label': cellText(b.label), 'data-value': b.value },
                h('span', { class: 'bar-label', title: cellText(b.label) }, cellText(b.label)),
                h('span', { class: 'bar-track' }, h('span', { class: 'bar-fill', style: `width: ${((100 * b.value) / max).toFixed(1)}%` })),
                h('span', { class: 'bar-value num' }, fmtInt(b.value)),
              ),
            ),
      );
    },
  };
}
