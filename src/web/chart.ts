// A bar chart as server-rendered SVG (no script, no library): one bar per day, the largest value and
// zero on the axis, a label every few days, and a title per bar for its exact value.
import { type Html, html } from './html.js';

export function barChart(
  points: ReadonlyArray<{ label: string; value: number }>,
  o: { title: string; unit: string },
): Html {
  const W = 900;
  const H = 220;
  const left = 56;
  const bottom = 28;
  const top = 12;
  const max = Math.max(1, ...points.map((p) => p.value));
  const plotW = W - left - 8;
  const plotH = H - top - bottom;
  const step = plotW / Math.max(1, points.length);
  const barW = Math.max(2, step * 0.7);
  const every = Math.max(1, Math.ceil(points.length / 12));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  return html`<figure class="chart">
<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${o.title}" width="100%" preserveAspectRatio="xMidYMid meet">
<line x1="${left}" y1="${top + plotH}" x2="${W - 8}" y2="${top + plotH}" stroke="#b9c1cf"/>
<line x1="${left}" y1="${top}" x2="${W - 8}" y2="${top}" stroke="#eef1f6"/>
<text x="${left - 6}" y="${top + 4}" text-anchor="end" font-size="11" fill="#5b6478">${max.toLocaleString('en-US')}</text>
<text x="${left - 6}" y="${top + plotH + 4}" text-anchor="end" font-size="11" fill="#5b6478">0</text>
${points.map((p, i) => {
  const x = left + i * step + (step - barW) / 2;
  const h = (p.value / max) * plotH;
  return html`<rect x="${x.toFixed(1)}" y="${y(p.value).toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(p.value > 0 ? 1 : 0, h).toFixed(1)}" fill="#1f4e8c"><title>${p.label}: ${p.value.toLocaleString('en-US')} ${o.unit}</title></rect>${
    i % every === 0
      ? html`<text x="${(x + barW / 2).toFixed(1)}" y="${H - 8}" text-anchor="middle" font-size="11" fill="#5b6478">${p.label.slice(5)}</text>`
      : ''
  }`;
})}
</svg>
<figcaption class="muted">${o.title}</figcaption>
</figure>`;
}
