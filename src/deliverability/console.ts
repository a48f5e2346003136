import type { Router } from 'express';
import { html } from '../http/html.js';
import { postButton, type Kit } from '../http/admin/kit.js';
import { isoTime } from '../http/admin/layout.js';
import { idParamSchema } from '../http/schemas.js';
import { notFound } from '../errors.js';
import type { InboundMessage } from './repository.js';

// The console's Deliverability page: whether sending is held and why (with the button that
// resumes it), the complaint and hard-bounce rates over the window and per day and sending
// domain, and the inbound mail the listener could not read or match, each one readable in full.

const pct = (n: number, of: number) => (of === 0 ? '–' : `${(Math.round((n / of) * 10000) / 100).toFixed(2)}%`);
const rate = (r: number) => `${(Math.round(r * 10000) / 100).toFixed(2)}%`;
const RAW_SHOWN = 256 * 1024;

function outcomeText(m: InboundMessage): string {
  const o = m.outcome as { type?: string; deliveryId?: number | null; suppressed?: boolean } | null;
  if (m.status === 'processed' && o) return `${o.type}${o.deliveryId ? ` for delivery ${o.deliveryId}` : ''}${o.suppressed ? ', address suppressed' : ''}`;
  return m.error ?? m.status;
}

export function deliverabilityRoutes(router: Router, kit: Kit): void {
  const { ctx } = kit;
  const { reputation, inbound } = ctx.services;

  router.get('/deliverability', async (req, res) => {
    const [r, days, look, recent] = await Promise.all([reputation.current(), reputation.days(14), inbound.needsLook(50), inbound.recent(20)]);
    const w = r.window;
    const row = (m: InboundMessage) =>
      html`<tr><td><a href="/admin/deliverability/inbound/${m.id}">${m.id}</a></td><td>${isoTime(m.receivedAt)}</td><td class="break">${m.rcptTo.join(', ')}</td><td>${m.reportKind ?? '–'}</td><td>${m.status}</td><td class="break">${outcomeText(m)}</td></tr>`;
    const table = (label: string, rows: InboundMessage[]) =>
      html`<div class="table-wrap" role="region" aria-label="${label}" tabindex="0"><table>
<thead><tr><th scope="col">#</th><th scope="col">Received</th><th scope="col">To</th><th scope="col">Report</th><th scope="col">Status</th><th scope="col">Outcome</th></tr></thead>
<tbody>${rows.map(row)}</tbody></table></div>`;
    kit.render(req, res, {
      title: 'Deliverability',
      section: 'deliverability',
      body: html`<h1>Deliverability</h1>
${r.hold
  ? html`<section class="notice error-box" role="alert" aria-labelledby="h-hold"><h2 id="h-hold">Sending is paused</h2>
<p>${r.hold.message}</p><p class="muted">Since ${isoTime(new Date(r.hold.since))}. Queued mail waits and goes out once you resume; nothing is sent twice. Look at the reports below (and the audience of recent digests) before resuming.</p>
${postButton(res, { action: '/admin/deliverability/resume', label: 'Resume sending', confirm: 'Resume sending now?' })}</section>`
  : html`<p>Sending is running.${r.resumed ? html` <span class="muted">Last resumed ${isoTime(new Date(r.resumed.at))} by ${r.resumed.by}.</span>` : ''}</p>`}
<section aria-labelledby="h-window"><h2 id="h-window">Over the window</h2>
<p>The last ${w.deliveries} deliveries${w.since ? html` (sent since ${isoTime(w.since)})` : ''}: complaint rate <strong>${rate(w.complaintRate)}</strong> (${w.complaints}; pauses above ${rate(r.thresholds.complaintRate)}), hard-bounce rate <strong>${rate(w.hardBounceRate)}</strong> (${w.hard}; pauses above ${rate(r.thresholds.hardBounceRate)}).
${w.deliveries < r.thresholds.minDeliveries ? html` <span class="muted">Fewer than ${r.thresholds.minDeliveries} deliveries: the rates are shown but do not pause sending yet.</span>` : ''}</p>
</section>
<section aria-labelledby="h-days"><h2 id="h-days">By day and sending domain</h2>
${days.length === 0
  ? html`<p>Nothing sent in the last 14 days.</p>`
  : html`<div class="table-wrap" role="region" aria-labelledby="h-days" tabindex="0"><table>
<thead><tr><th scope="col">Day (UTC)</th><th scope="col">Sending domain</th><th scope="col" class="num">Deliveries</th><th scope="col" class="num">Hard bounces</th><th scope="col" class="num">Soft bounces</th><th scope="col" class="num">Complaints</th><th scope="col" class="num">Complaint rate</th><th scope="col" class="num">Hard-bounce rate</th></tr></thead>
<tbody>${days.map((d) => html`<tr><td>${d.day}</td><th scope="row">${d.domain}</th><td class="num">${d.deliveries}</td><td class="num">${d.hard}</td><td class="num">${d.soft}</td><td class="num">${d.complaints}</td><td class="num">${pct(d.complaints, d.deliveries)}</td><td class="num">${pct(d.hard, d.deliveries)}</td></tr>`)}</tbody></table></div>`}
</section>
<section aria-labelledby="h-look"><h2 id="h-look">Inbound mail to look at</h2>
<p class="muted">Mail the listener kept but could not read as a bounce or complaint report, or that names no delivery of ours. Nothing was recorded for these.</p>
${look.length === 0 ? html`<p>None.</p>` : table('Inbound mail to look at', look)}
</section>
<section aria-labelledby="h-recent"><h2 id="h-recent">Recent inbound mail</h2>
${recent.length === 0 ? html`<p>None yet. Point the relay's bounces at the listener (see docs/operations.md).</p>` : table('Recent inbound mail', recent)}
</section>`,
    });
  });

  router.get('/deliverability/inbound/:id', async (req, res) => {
    const id = idParamSchema.parse(req.params.id);
    const m = await inbound.find(id);
    if (!m) throw notFound(`Inbound message ${id}`);
    const text = m.raw.subarray(0, RAW_SHOWN).toString('utf8');
    kit.render(req, res, {
      title: `Inbound message ${id}`,
      section: 'deliverability',
      body: html`<h1>Inbound message ${id}</h1>
<dl><dt>Received</dt><dd>${isoTime(m.receivedAt)} from ${m.remoteAddress ?? 'unknown'}</dd><dt>Envelope</dt><dd class="break">from &lt;${m.mailFrom ?? ''}&gt; to ${m.rcptTo.join(', ')}</dd>
<dt>Status</dt><dd>${m.status}${m.reportKind ? ` (${m.reportKind})` : ''}</dd><dt>Outcome</dt><dd>${outcomeText(m)}</dd><dt>Size</dt><dd>${m.size} bytes</dd></dl>
<h2>Message</h2>${m.size > RAW_SHOWN ? html`<p class="muted">The first ${RAW_SHOWN} bytes.</p>` : ''}
<pre class="raw-mail">${text}</pre>
<p><a href="/admin/deliverability">Back to Deliverability</a></p>`,
    });
  });

  router.post('/deliverability/resume', async (_req, res) => {
    const r = await reputation.resume(kit.actor(res));
    res.redirect(303, `/admin/deliverability?done=${r.resumed ? 'sending-resumed' : 'not-held'}`);
  });
}
