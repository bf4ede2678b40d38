// The operator plan (EXPLAIN's JSON: nodes and edges, source first) drawn as boxes and arrows in SVG.
import type { PlanJson } from '../api.ts';
import { h, s } from '../dom.ts';

const BOX_W = 300;
const BOX_H = 54;
const GAP_Y = 34;
const GAP_X = 24;

export function planGraph(plan: PlanJson): HTMLElement {
  // Layer = longest path from a source, so a tree with joins would still read top to bottom.
  const layer = new Map<number, number>(plan.nodes.map((n) => [n.id, 0]));
  for (let pass = 0; pass < plan.nodes.length; pass++) {
    for (const e of plan.edges) layer.set(e.to, Math.max(layer.get(e.to) ?? 0, (layer.get(e.from) ?? 0) + 1));
  }
  const layers: number[][] = [];
  for (const n of plan.nodes) (layers[layer.get(n.id)!] ??= []).push(n.id);
  const widest = Math.max(1, ...layers.map((l) => l?.length ?? 0));
  const width = widest * BOX_W + (widest - 1) * GAP_X + 8;
  const height = layers.length * (BOX_H + GAP_Y) - GAP_Y + 8;
  const pos = new Map<number, { x: number; y: number }>();
  layers.forEach((ids, li) => {
    const rowW = ids.length * BOX_W + (ids.length - 1) * GAP_X;
    ids.forEach((id, i) => pos.set(id, { x: 4 + (width - 8 - rowW) / 2 + i * (BOX_W + GAP_X), y: 4 + li * (BOX_H + GAP_Y) }));
  });

  const clip = (t: string, n: number): string => (t.length > n ? `${t.slice(0, n - 1)}…` : t);
  const svg = s(
    'svg',
    { class: 'plan-graph', viewBox: `0 0 ${width} ${height}`, width, role: 'img', 'aria-label': `Operator plan: ${plan.nodes.map((n) => n.operator).join(' → ')}` },
    s('defs', {}, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto' }, s('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#8a94a3' }))),
    plan.edges.map((e) => {
      const a = pos.get(e.from);
      const b = pos.get(e.to);
      if (!a || !b) return null;
      return s('line', { x1: a.x + BOX_W / 2, y1: a.y + BOX_H, x2: b.x + BOX_W / 2, y2: b.y - 2, stroke: '#8a94a3', 'stroke-width': 1.5, 'marker-end': 'url(#arrow)' });
    }),
    plan.nodes.map((n) => {
      const p = pos.get(n.id)!;
      const kind = n.operator === 'Sink' ? 'sink' : layer.get(n.id) === 0 ? 'source' : 'op';
      return s(
        'g',
        { class: `plan-node ${kind}`, transform: `translate(${p.x},${p.y})`, 'data-operator': n.operator },
        s('title', {}, `${n.operator}(${n.detail})\n${n.schema.map((c) => `${c.name} ${c.type}`).join(', ')}`),
        s('rect', { width: BOX_W, height: BOX_H, rx: 6 }),
        s('text', { x: 12, y: 21, class: 'op' }, n.operator),
        s('text', { x: 12, y: 41, class: 'detail' }, clip(n.detail, 38)),
      );
    }),
  );
  return h('div', { class: 'plan-scroll' }, svg);
}
