import { html, type SafeHtml } from '../html.js';

// Server-rendered SVG charts: no library, no script. Each is an image with a <title> and a
// <desc> that says what the bars show (role="img"); the numbers themselves are in a data table
// next to the charts, which is the accessible alternative. Colours come from admin.css classes
// (presentation attributes only: the CSP forbids inline styles).

const W = 320;
const H = 120;
const PAD = { top: 14, right: 6, bottom: 20, left: 30 };

const shortDay = (day: string) => {
  const d = new Date(`${day}T00:00:00Z`);
  return new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(d);
};

/** A daily bar chart of one figure. */
export function barChart(o: { id: string; title: string; points: { day: string; value: number }[]; tone: string }): SafeHtml {
  const n = o.points.length;
  const max = Math.max(0, ...o.points.map((p) => p.value));
  const total = o.points.reduce((a, p) => a + p.value, 0);
  const top = max === 0 ? 1 : niceCeil(max);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = n > 0 ? plotW / n : plotW;
  const barW = Math.max(1, step * 0.75);
  const peak = o.points.reduce<{ day: string; value: number } | undefined>((best, p) => (!best || p.value > best.value ? p : best), undefined);
  const desc = n === 0 ? 'No data.' : `${total} in total from ${shortDay(o.points[0]!.day)} to ${shortDay(o.points[n - 1]!.day)}; ${max === 0 ? 'none on any day' : `highest ${max} on ${shortDay(peak!.day)}`}.`;
  const bars = o.points.map((p, i) => {
    const h = (p.value / top) * plotH;
    const x = PAD.left + i * step + (step - barW) / 2;
    const y = PAD.top + plotH - h;
    return html`<rect class="bar" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barW.toFixed(1)}" height="${Math.max(0, h).toFixed(1)}"><title>${shortDay(p.day)}: ${p.value}</title></rect>`;
  });
  const baseline = PAD.top + plotH;
  return html`<figure class="chart tone-${o.tone}">
<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="${o.id}-t ${o.id}-d" focusable="false">
<title id="${o.id}-t">${o.title}, per day</title>
<desc id="${o.id}-d">${desc}</desc>
<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top}" y2="${PAD.top}"></line>
<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${baseline}" y2="${baseline}"></line>
<text class="tick" x="${PAD.left - 4}" y="${PAD.top + 4}" text-anchor="end">${top}</text>
<text class="tick" x="${PAD.left - 4}" y="${baseline}" text-anchor="end">0</text>
${n > 0 ? html`<text class="tick" x="${PAD.left}" y="${H - 5}">${shortDay(o.points[0]!.day)}</text><text class="tick" x="${W - PAD.right}" y="${H - 5}" text-anchor="end">${shortDay(o.points[n - 1]!.day)}</text>` : ''}
${bars}
</svg>
<figcaption><span class="figure-name">${o.title}</span> <strong>${total}</strong></figcaption>
</figure>`;
}

/** 1, 2, 5 × 10^k at or above v: a y-axis top that reads well. */
function niceCeil(v: number): number {
  const k = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * k >= v) return m * k;
  return 10 * k;
}

/** A horizontal progress meter as SVG (used where <progress> cannot show several parts). */
export function stackedBar(o: { id: string; label: string; parts: { key: string; label: string; value: number }[] }): SafeHtml {
  const total = o.parts.reduce((a, p) => a + p.value, 0);
  let x = 0;
  const rects = o.parts.map((p) => {
    const w = total === 0 ? 0 : (p.value / total) * 100;
    const r = html`<rect class="part-${p.key}" x="${x.toFixed(2)}" y="0" width="${w.toFixed(2)}" height="10"><title>${p.label}: ${p.value}</title></rect>`;
    x += w;
    return r;
  });
  const summary = o.parts.map((p) => `${p.label} ${p.value}`).join(', ');
  return html`<svg class="stacked" viewBox="0 0 100 10" preserveAspectRatio="none" width="100%" height="14" role="img" aria-labelledby="${o.id}-t"><title id="${o.id}-t">${o.label}: ${summary}</title>${rects}</svg>`;
}
