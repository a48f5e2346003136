import type { Router } from 'express';
import { html } from '../../html.js';
import type { Kit } from '../kit.js';
import { barChart } from '../charts.js';
import { fmtNum, fmtPct, isoTime } from '../layout.js';
import { progressPanel, sentSoFar } from './deliveries.js';
import type { DailyFigure } from '../../../repositories/stats.js';

const SERIES: { key: DailyFigure; title: string; tone: string }[] = [
  { key: 'shown', title: 'Prompts shown', tone: 'blue' },
  { key: 'dismissed', title: 'No Thanks', tone: 'grey' },
  { key: 'signups', title: 'Signups', tone: 'green' },
  { key: 'confirmations', title: 'Confirmations', tone: 'green' },
  { key: 'declines', title: 'Declines', tone: 'orange' },
  { key: 'unsubscribes', title: 'Unsubscribes', tone: 'orange' },
  { key: 'sent', title: 'Digests sent', tone: 'blue' },
  { key: 'bounced', title: 'Bounces', tone: 'red' },
];

export function dashboardRoutes(router: Router, kit: Kit): void {
  const { ctx } = kit;

  router.get('/', async (req, res) => {
    const [d, hold] = await Promise.all([ctx.services.adminStats.dashboard(30), ctx.services.reputation.hold()]);
    const charts = SERIES.map((s) => barChart({ id: `chart-${s.key}`, title: s.title, tone: s.tone, points: d.days.map((day) => ({ day: day.day, value: day[s.key] })) }));
    const feedState = (f: (typeof d.feeds)[number]) =>
      f.consecutiveFailures > 0
        ? html`<span class="badge bad">failing (${f.consecutiveFailures})</span>`
        : f.lastSuccessAt
          ? html`<span class="badge ok">ok</span>`
          : html`<span class="badge">not polled yet</span>`;
    const run = d.lastRun.run;
    kit.render(req, res, {
      title: 'Dashboard',
      section: 'dashboard',
      body: html`<h1>Dashboard</h1>
${hold ? html`<p class="notice error-box" role="alert">Sending is paused: ${hold.message} <a href="/admin/deliverability">Deliverability</a></p>` : ''}
<p class="muted">Last 30 days, ${d.from} to ${d.to} (UTC days).</p>

<section aria-labelledby="h-readers">
<h2 id="h-readers">What readers do</h2>
<div class="charts">${charts}</div>
<details class="data-table">
<summary>The same figures as a table</summary>
<div class="table-wrap" role="region" aria-label="Daily figures" tabindex="0">
<table class="figures">
<caption>Per day, last 30 days</caption>
<thead><tr><th scope="col">Day</th>${SERIES.map((s) => html`<th scope="col" class="num">${s.title}</th>`)}</tr></thead>
<tbody>${[...d.days].reverse().map((day) => html`<tr><th scope="row">${day.day}</th>${SERIES.map((s) => html`<td class="num">${fmtNum(day[s.key])}</td>`)}</tr>`)}</tbody>
</table></div>
</details>
</section>

<section aria-labelledby="h-topics">
<h2 id="h-topics">Topics</h2>
<div class="table-wrap" role="region" aria-labelledby="h-topics" tabindex="0">
<table class="figures">
<caption>Conversion (signups ÷ prompts shown) and confirmation rate (confirmations ÷ signups) over 30 days; subscribers now</caption>
<thead><tr><th scope="col">Topic</th><th scope="col" class="num">Shown</th><th scope="col" class="num">No Thanks</th><th scope="col" class="num">Signups</th><th scope="col" class="num">Conversion</th><th scope="col" class="num">Confirmed</th><th scope="col" class="num">Confirmation rate</th><th scope="col" class="num">Declines</th><th scope="col" class="num">Unsubscribes</th><th scope="col" class="num">Active</th><th scope="col" class="num">Pending</th><th scope="col" class="num">Unsubscribed</th></tr></thead>
<tbody>${d.topics.map(
        (t) => html`<tr><th scope="row"><a href="/admin/topics/${t.slug}">${t.name}</a>${t.status === 'archived' ? html` <span class="badge">archived</span>` : ''}</th>
<td class="num">${fmtNum(t.shown)}</td><td class="num">${fmtNum(t.dismissed)}</td><td class="num">${fmtNum(t.signups)}</td><td class="num">${fmtPct(t.conversion)}</td>
<td class="num">${fmtNum(t.confirmations)}</td><td class="num">${fmtPct(t.confirmationRate)}</td><td class="num">${fmtNum(t.declines)}</td><td class="num">${fmtNum(t.unsubscribes)}</td>
<td class="num">${fmtNum(t.subscribers.active)}</td><td class="num">${fmtNum(t.subscribers.pending)}</td><td class="num">${fmtNum(t.subscribers.unsubscribed)}</td></tr>`,
      )}</tbody>
</table></div>
${d.topics.length === 0 ? html`<p>No topics yet. <a href="/admin/topics/new">Create one</a>.</p>` : ''}
</section>

<section aria-labelledby="h-sending" class="two-col">
<div>
<h2 id="h-sending">Sending</h2>
<dl class="facts">
<dt>Queued</dt><dd>${d.queue.queued === 0 ? 'none' : html`${fmtNum(d.queue.queued)} (${d.queue.due === 0 ? 'none' : fmtNum(d.queue.due)} due now)`}</dd>
<dt>Being sent</dt><dd>${fmtNum(d.queue.sending)}</dd>
<dt>Oldest due</dt><dd>${d.queue.oldestDueAt ? html`${isoTime(d.queue.oldestDueAt)}` : 'nothing waiting'}</dd>
</dl>
</div>
<div>
<h2 id="h-run">Last scheduler run</h2>
${run
  ? html`<dl class="facts">
<dt>Run</dt><dd>#${run.id}, ${run.trigger}, <span class="badge ${run.status === 'failed' ? 'bad' : run.status === 'running' ? '' : 'ok'}">${run.status}</span></dd>
<dt>Started</dt><dd>${isoTime(run.startedAt)}</dd>
<dt>Finished</dt><dd>${run.finishedAt ? isoTime(run.finishedAt) : 'still running'}</dd>
<dt>Subscribers scanned</dt><dd>${fmtNum(run.subscribersScanned)}</dd>
<dt>Digests queued</dt><dd>${fmtNum(run.deliveriesQueued)}</dd>
<dt>Sent so far</dt><dd>${sentSoFar(d.lastRun)}</dd>
${run.error ? html`<dt>Error</dt><dd class="error">${run.error}</dd>` : ''}
</dl>
<p><a href="/admin/deliveries">Progress and deliveries</a></p>`
  : html`<p>The scheduler has not run yet.</p>`}
</div>
</section>

<section aria-labelledby="h-feeds">
<h2 id="h-feeds">Feed health</h2>
${d.feeds.length === 0
  ? html`<p>No feeds. Articles arrive through <code>POST /api/v1/articles</code>, or <a href="/admin/feeds">add a feed</a>.</p>`
  : html`<div class="table-wrap" role="region" aria-labelledby="h-feeds" tabindex="0"><table>
<thead><tr><th scope="col">Feed</th><th scope="col">State</th><th scope="col">Last success</th><th scope="col">Last error</th></tr></thead>
<tbody>${d.feeds.map((f) => html`<tr><th scope="row">${f.name || f.url}</th><td>${feedState(f)}</td><td>${isoTime(f.lastSuccessAt)}</td><td>${f.lastError ? html`<span class="error-text">${f.lastError}</span> (${isoTime(f.lastErrorAt)})` : html`<span class="muted">none</span>`}</td></tr>`)}</tbody>
</table></div>`}
</section>
${d.lastRun.run && !d.lastRun.finished ? progressPanel(d.lastRun, 'dash') : ''}`,
    });
  });
}
