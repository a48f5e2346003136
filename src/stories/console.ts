import type { Router } from 'express';
import { z } from 'zod';
import { html } from '../http/html.js';
import { postButton, type Kit } from '../http/admin/kit.js';
import { isoTime } from '../http/admin/layout.js';
import { idParamSchema } from '../http/schemas.js';
import { notFound } from '../errors.js';

// The console's view of stories: how many ingested articles were copies, per feed and day; the
// recent stories with copies; one story's copies with their sources and similarity; and the
// threshold, with a preview of the recent articles at another value before saving it.

const previewQuery = z.object({
  threshold: z.coerce.number().gt(0).max(1).optional(),
  days: z.coerce.number().int().min(1).max(30).default(7),
});
const pct = (n: number, of: number) => (of === 0 ? '–' : `${Math.round((n / of) * 1000) / 10}%`);

export function storyRoutes(router: Router, kit: Kit): void {
  const { ctx } = kit;
  const stories = ctx.services.stories;

  router.get('/stories', async (req, res) => {
    const q = previewQuery.parse(req.query);
    const current = await stories.threshold();
    const threshold = q.threshold ?? current;
    const [preview, share, recent] = await Promise.all([stories.preview(threshold, q.days), stories.duplicateShare(14), stories.recentStories(q.days, 30)]);
    kit.render(req, res, {
      title: 'Stories',
      section: 'stories',
      body: html`<h1>Stories</h1>
<p class="muted">A story is the articles that report one event: an article joins the story of the most similar article of the last ${Math.round(stories.windowMs / 86_400_000)} days when their similarity (how much of the shorter text the longer one contains, wire boilerplate left out) reaches the threshold. Readers get each story once.</p>
<section aria-labelledby="h-threshold"><h2 id="h-threshold">Threshold</h2>
<form method="get" action="/admin/stories" class="filters">
<p class="field inline-field"><label for="f-threshold">Similarity from which an article joins a story</label>
<input id="f-threshold" name="threshold" type="number" min="0.05" max="1" step="0.01" value="${threshold}" aria-describedby="f-threshold-hint">
<button type="submit" class="secondary">Preview</button></p>
<p class="hint" id="f-threshold-hint">In force: ${current}. The preview replays the last ${preview.articles} articles at the value above; nothing changes until you save.</p>
</form>
${threshold !== current ? postButton(res, { action: '/admin/stories/threshold', label: `Save ${threshold} as the threshold`, fields: { threshold } }) : ''}
<p>At ${threshold}: <strong>${preview.joined}</strong> of ${preview.articles} recent articles join an earlier story (${pct(preview.joined, preview.articles)}); with the stories as stored, ${preview.joinedNow} did.</p>
${preview.stories.length === 0
  ? html`<p>No copies among the recent articles at this threshold.</p>`
  : html`<div class="table-wrap" role="region" aria-labelledby="h-threshold" tabindex="0"><table>
<thead><tr><th scope="col">Story (first copy)</th><th scope="col" class="num">Articles</th><th scope="col">Copies: source and similarity</th></tr></thead>
<tbody>${preview.stories.slice(0, 30).map(
      (g) => html`<tr><th scope="row">${g[0]!.title} <span class="muted">${g[0]!.source}</span></th><td class="num">${g.length}</td>
<td><ul class="chips">${g.slice(1).map((c) => html`<li>${c.source} ${c.similarity ?? ''}</li>`)}</ul></td></tr>`,
    )}</tbody></table></div>`}
</section>
<section aria-labelledby="h-share"><h2 id="h-share">Copies by feed and day</h2>
${share.length === 0
  ? html`<p>No articles in the last 14 days.</p>`
  : html`<div class="table-wrap" role="region" aria-labelledby="h-share" tabindex="0"><table>
<thead><tr><th scope="col">Day (UTC)</th><th scope="col">Feed</th><th scope="col" class="num">Articles</th><th scope="col" class="num">Copies</th><th scope="col" class="num">Share</th></tr></thead>
<tbody>${share.map((r) => html`<tr><td>${r.day}</td><th scope="row" class="break">${r.source}</th><td class="num">${r.articles}</td><td class="num">${r.copies}</td><td class="num">${pct(r.copies, r.articles)}</td></tr>`)}</tbody></table></div>`}
</section>
<section aria-labelledby="h-recent"><h2 id="h-recent">Recent stories with copies</h2>
${recent.length === 0
  ? html`<p>None in the last ${q.days} days.</p>`
  : html`<ul>${recent.map((s) => html`<li><a href="/admin/stories/${s.storyId}">${s.title}</a> <span class="muted">${s.copies} articles, last ${isoTime(s.lastAt)}</span></li>`)}</ul>`}
</section>`,
    });
  });

  router.get('/stories/:id', async (req, res) => {
    const id = idParamSchema.parse(req.params.id);
    const copies = await stories.copies(id);
    if (copies.length === 0) throw notFound(`Story ${id}`);
    kit.render(req, res, {
      title: `Story: ${copies[0]!.title}`,
      section: 'stories',
      body: html`<h1>${copies[0]!.title}</h1>
<p class="muted">Story ${id}: ${copies.length} article${copies.length === 1 ? '' : 's'}. A reader gets the first copy they match, once; an update an editor marked goes out once more.</p>
<div class="table-wrap" role="region" aria-label="Copies" tabindex="0"><table>
<thead><tr><th scope="col">Article</th><th scope="col">Source</th><th scope="col">Published</th><th scope="col">Arrived</th><th scope="col" class="num">Similarity</th></tr></thead>
<tbody>${copies.map(
        (c) => html`<tr><th scope="row"><a href="${c.url}" rel="noopener">${c.title}</a>${c.isUpdate ? html` <span class="badge">update</span>` : ''}${c.id === id ? html` <span class="badge">first</span>` : ''}</th>
<td class="break">${c.source}</td><td>${isoTime(c.publishedAt)}</td><td>${isoTime(c.createdAt)}</td><td class="num">${c.similarity ?? '–'}</td></tr>`,
      )}</tbody></table></div>
<p><a href="/admin/stories">All stories</a></p>`,
    });
  });

  router.post('/stories/threshold', async (req, res) => {
    const { threshold } = z.object({ threshold: z.coerce.number() }).parse(req.body ?? {});
    await stories.setThreshold(threshold, kit.actor(res));
    res.redirect(303, '/admin/stories?done=threshold-saved');
  });
}
