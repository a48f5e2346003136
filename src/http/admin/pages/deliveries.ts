import type { Router } from 'express';
import { z } from 'zod';
import { html, type SafeHtml } from '../../html.js';
import { postButton, type Kit } from '../kit.js';
import { fmtDuration, fmtNum, isoTime } from '../layout.js';
import { stackedBar } from '../charts.js';
import type { RunProgress } from '../../../services/admin-stats.js';
import { DELIVERY_KINDS, type DeliveryStatus } from '../../../db/types.js';
import { idParamSchema } from '../../schemas.js';

const STATUSES: DeliveryStatus[] = ['queued', 'sending', 'sent', 'failed', 'bounced', 'cancelled'];
const listQuery = z.object({
  status: z.enum(['queued', 'sending', 'sent', 'failed', 'bounced', 'cancelled']).optional(),
  kind: z.enum(DELIVERY_KINDS).optional(),
  before: z.coerce.number().int().min(1).optional(),
});

/** JSON of a run's progress: what admin.js polls. */
export function progressJson(p: RunProgress) {
  return {
    run: p.run && {
      id: p.run.id,
      trigger: p.run.trigger,
      status: p.run.status,
      startedAt: p.run.startedAt.toISOString(),
      finishedAt: p.run.finishedAt?.toISOString() ?? null,
      subscribersScanned: p.run.subscribersScanned,
      deliveriesQueued: p.run.deliveriesQueued,
      error: p.run.error,
    },
    counts: p.counts,
    total: p.total,
    done: p.done,
    percent: p.percent,
    ratePerMinute: p.ratePerMinute,
    secondsLeft: p.secondsLeft,
    timeLeft: p.secondsLeft === null ? null : fmtDuration(p.secondsLeft),
    finished: p.finished,
  };
}

/**
 * "Sent so far" of a run in words. A run that queued nothing (most scheduler ticks: nobody was due)
 * is finished at "100%" of zero, which read as if mail had gone out; and failures count towards
 * the settled percentage, so the sent share is given on its own with what did not go out.
 */
export function sentSoFar(p: RunProgress): string {
  if (p.total === 0) return p.run?.status === 'running' ? 'nothing queued yet' : 'nothing to send';
  const pct = Math.floor((p.counts.sent / p.total) * 1000) / 10;
  const notSent = (
    [
      [p.counts.failed, 'failed'],
      [p.counts.bounced, 'bounced'],
      [p.counts.cancelled, 'cancelled'],
    ] as const
  )
    .filter(([n]) => n > 0)
    .map(([n, label]) => `${fmtNum(n)} ${label}`);
  const left = p.secondsLeft ? `, about ${fmtDuration(p.secondsLeft)} left` : '';
  return `${fmtNum(p.counts.sent)} of ${fmtNum(p.total)} (${pct}%)${notSent.length > 0 ? `; ${notSent.join(', ')}` : ''}${left}`;
}

/**
 * The live progress of a digest run: a <progress> element and the counts, server-rendered, that
 * admin.js keeps current by polling the JSON endpoint. Without JS, reloading the page updates it.
 */
export function progressPanel(p: RunProgress, idPrefix = 'run'): SafeHtml {
  const run = p.run!;
  // Nothing more can happen to a finished run that queued nothing: no bar at "100%" of zero, no polling.
  if (p.finished && p.total === 0) {
    return html`<section class="progress-panel" aria-labelledby="${idPrefix}-h">
<h2 id="${idPrefix}-h">Digest run #${run.id} <span class="badge">${run.status}</span></h2>
<p>Nothing to send: this run scanned ${fmtNum(run.subscribersScanned)} subscriber${run.subscribersScanned === 1 ? '' : 's'} and queued no digests.</p>
<p class="muted">Started ${isoTime(run.startedAt)}${run.finishedAt ? html`, finished ${isoTime(run.finishedAt)}` : ''}.</p>
</section>`;
  }
  const f = (key: string, value: string | number) => html`<dd data-field="${key}">${value}</dd>`;
  return html`<section class="progress-panel" aria-labelledby="${idPrefix}-h" data-progress-url="/admin/deliveries/progress.json?run=${run.id}">
<h2 id="${idPrefix}-h">Digest run #${run.id} <span class="badge" data-field="status">${run.status}</span></h2>
<p><label for="${idPrefix}-bar">Sent or settled</label>
<progress id="${idPrefix}-bar" max="100" value="${p.percent}" data-field="bar">${p.percent}%</progress>
<output for="${idPrefix}-bar" data-field="percent" aria-live="polite">${p.percent}%</output></p>
${stackedBar({ id: `${idPrefix}-stack`, label: 'Deliveries of this run by status', parts: STATUSES.map((s) => ({ key: s, label: s, value: p.counts[s] })) })}
<dl class="facts compact">
<dt>Queued</dt>${f('queued', fmtNum(p.counts.queued))}
<dt>Sending</dt>${f('sending', fmtNum(p.counts.sending))}
<dt>Sent</dt>${f('sent', fmtNum(p.counts.sent))}
<dt>Failed</dt>${f('failed', fmtNum(p.counts.failed))}
<dt>Bounced</dt>${f('bounced', fmtNum(p.counts.bounced))}
<dt>Total</dt>${f('total', fmtNum(p.total))}
<dt>Rate</dt>${f('rate', `${fmtNum(p.ratePerMinute)} per minute`)}
<dt>Time left</dt>${f('timeLeft', p.finished ? 'done' : fmtDuration(p.secondsLeft))}
</dl>
<p class="muted">Started ${isoTime(run.startedAt)}; ${run.finishedAt ? html`queueing finished ${isoTime(run.finishedAt)}` : 'still queueing'}. ${fmtNum(run.subscribersScanned)} subscribers scanned, ${fmtNum(run.deliveriesQueued)} digests queued.</p>
</section>`;
}

export function deliveryRoutes(router: Router, kit: Kit): void {
  const { ctx } = kit;

  router.get('/deliveries/progress.json', async (req, res) => {
    const run = req.query.run === undefined ? undefined : idParamSchema.parse(req.query.run);
    res.json(progressJson(await ctx.services.adminStats.progress(run)));
  });

  router.get('/deliveries', async (req, res) => {
    const q = listQuery.parse(req.query);
    const [progress, counts, runs] = await Promise.all([
      ctx.services.adminStats.progress(),
      ctx.services.adminStats.deliveryCounts(),
      ctx.services.adminStats.recentRuns(10),
    ]);
    const rows = await ctx.services.digestAdmin.deliveries({ status: q.status, kind: q.kind, beforeId: q.before, limit: 51 });
    const page = rows.slice(0, 50);
    const qs = (o: Record<string, string | number | undefined>) => {
      const p = new URLSearchParams();
      for (const [k, v] of Object.entries(o)) if (v !== undefined) p.set(k, String(v));
      const s = p.toString();
      return s ? `?${s}` : '';
    };
    kit.render(req, res, {
      title: 'Deliveries',
      section: 'deliveries',
      body: html`<h1>Deliveries</h1>
${progress.run ? progressPanel(progress) : html`<p>No digest run yet. The scheduler queues digests as they fall due; <code>npm run cli -- digests:run</code> runs it now.</p>`}

<section aria-labelledby="h-list">
<h2 id="h-list">Delivery log</h2>
<nav aria-label="Filter by status" class="tabs"><ul>
<li><a href="/admin/deliveries${qs({ kind: q.kind })}"${!q.status ? html` aria-current="page"` : ''}>All</a></li>
${STATUSES.map((s) => html`<li><a href="/admin/deliveries${qs({ status: s, kind: q.kind })}"${q.status === s ? html` aria-current="page"` : ''}>${s} <span class="count">${fmtNum(counts[s])}</span></a></li>`)}
</ul></nav>
${counts.failed > 0 ? html`<div class="actions">${postButton(res, { action: '/admin/deliveries/retry', label: `Retry all ${counts.failed} failed`, confirm: `Queue all ${counts.failed} failed deliveries again?` })}</div>` : ''}
${page.length === 0
  ? html`<p>No deliveries${q.status ? html` with status ${q.status}` : ''}.</p>`
  : html`<div class="table-wrap" role="region" aria-labelledby="h-list" tabindex="0"><table>
<thead><tr><th scope="col">#</th><th scope="col">Kind</th><th scope="col">To</th><th scope="col">Status</th><th scope="col" class="num">Attempts</th><th scope="col">Created</th><th scope="col">Sent / next attempt</th><th scope="col">Last error</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
<tbody>${page.map(
      (d) => html`<tr><td>${d.id}</td><td>${d.kind}</td><td class="address">${d.subscriberId ? html`<a href="/admin/subscribers/${d.subscriberId}">${d.toAddress ?? `subscriber ${d.subscriberId}`}</a>` : html`<span class="muted">${d.toAddress ?? 'erased'}</span>`}</td>
<td><span class="badge status-${d.status}">${d.status}</span></td><td class="num">${d.attempts}</td><td>${isoTime(d.createdAt)}</td>
<td>${d.sentAt ? isoTime(d.sentAt) : d.status === 'queued' ? isoTime(d.nextAttemptAt) : ''}</td><td>${d.lastError ? html`<span class="error-text">${d.lastError.slice(0, 200)}</span>` : ''}</td>
<td>${d.status === 'failed' && d.toAddress ? postButton(res, { action: `/admin/deliveries/${d.id}/retry`, label: 'Retry', className: 'secondary small' }) : ''}</td></tr>`,
    )}</tbody></table></div>
${rows.length > 50 ? html`<p class="pager"><a href="/admin/deliveries${qs({ status: q.status, kind: q.kind, before: page[page.length - 1]!.id })}">Older deliveries</a></p>` : ''}`}
</section>

<section aria-labelledby="h-runs">
<h2 id="h-runs">Recent scheduler runs</h2>
${runs.length === 0
  ? html`<p>None yet.</p>`
  : html`<div class="table-wrap" role="region" aria-labelledby="h-runs" tabindex="0"><table><thead><tr><th scope="col">Run</th><th scope="col">Trigger</th><th scope="col">Status</th><th scope="col">Started</th><th scope="col">Finished</th><th scope="col" class="num">Scanned</th><th scope="col" class="num">Queued</th></tr></thead>
<tbody>${runs.map((r) => html`<tr><td>#${r.id}</td><td>${r.trigger}</td><td>${r.status}${r.error ? html` — <span class="error-text">${r.error}</span>` : ''}</td><td>${isoTime(r.startedAt)}</td><td>${isoTime(r.finishedAt)}</td><td class="num">${fmtNum(r.subscribersScanned)}</td><td class="num">${fmtNum(r.deliveriesQueued)}</td></tr>`)}</tbody></table></div>`}
</section>`,
    });
  });

  router.post('/deliveries/retry', async (_req, res) => {
    const ids = await ctx.services.admin.retryFailed(undefined, kit.actor(res));
    res.redirect(303, `/admin/deliveries?done=${ids.length > 0 ? 'retried' : 'nothing-to-retry'}`);
  });

  router.post('/deliveries/:id/retry', async (req, res) => {
    const ids = await ctx.services.admin.retryFailed([idParamSchema.parse(req.params.id)], kit.actor(res));
    res.redirect(303, `/admin/deliveries?status=failed&done=${ids.length > 0 ? 'retried' : 'nothing-to-retry'}`);
  });
}
