// Admin console, progressive bits only: every page works without this file.
// - live query test on the topic form (as you type, debounced, and on the button)
// - confirm prompts on forms marked data-confirm
// - the digest run progress panel, polled from its JSON endpoint
// No inline scripts (CSP); no build step.
(() => {
  'use strict';

  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const c of children) node.append(c);
    return node;
  };

  // ---- confirm prompts
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  // ---- a freshly created token: select it for copying
  for (const input of document.querySelectorAll('[data-select-on-focus]')) {
    input.addEventListener('focus', () => input.select());
  }

  // ---- live query test
  for (const form of document.querySelectorAll('form[data-query-test]')) {
    const endpoint = form.dataset.queryTest;
    const query = form.querySelector('[data-query-input]');
    const days = form.querySelector('select[name=days]');
    const button = form.querySelector('[data-action=test]');
    const out = form.querySelector('[data-test-results]');
    if (!query || !out) continue;
    let timer;
    let controller;
    let last = '';

    const show = (...nodes) => {
      out.replaceChildren(...nodes);
      out.removeAttribute('aria-busy');
    };

    const run = async (force) => {
      const q = query.value.trim();
      const key = `${q}|${days ? days.value : ''}`;
      if (!force && key === last) return;
      last = key;
      if (!q) {
        show(el('p', { class: 'muted' }, 'Type a query to see which recent articles it matches.'));
        return;
      }
      if (controller) controller.abort();
      controller = new AbortController();
      out.setAttribute('aria-busy', 'true');
      const params = new URLSearchParams({ query: q });
      if (days) params.set('days', days.value);
      try {
        const res = await fetch(`${endpoint}?${params}`, { headers: { accept: 'application/json' }, credentials: 'same-origin', signal: controller.signal });
        const body = await res.json();
        if (!res.ok) {
          const e = body.error || {};
          const issue = (e.issues && e.issues[0] && e.issues[0].message) || e.message || 'The query could not be tested';
          const where = typeof e.column === 'number' ? ` (column ${e.column})` : '';
          query.setAttribute('aria-invalid', 'true');
          show(el('p', { class: 'error', role: 'alert' }, `The query is invalid: ${issue}${where}`));
          return;
        }
        query.removeAttribute('aria-invalid');
        const summary = el('p', {}, el('strong', {}, String(body.count)), ` matching article${body.count === 1 ? '' : 's'} in the last ${body.days} days${body.truncated ? ' (only the newest candidates were checked)' : ''}. Normalised query: `, el('code', {}, body.normalizedQuery));
        const list = el('ol', { class: 'test-matches' });
        for (const a of body.matches) {
          const when = new Date(a.publishedAt);
          list.append(el('li', {}, el('a', { href: a.url, rel: 'noopener' }, a.title), ' ', el('span', { class: 'muted' }, el('time', { datetime: a.publishedAt }, when.toISOString().slice(0, 16).replace('T', ' ') + ' UTC'))));
        }
        show(summary, ...(body.matches.length > 0 ? [list] : []));
      } catch (err) {
        if (err && err.name === 'AbortError') return;
        show(el('p', { class: 'error', role: 'alert' }, 'The test could not run; check your connection and try again.'));
      }
    };

    query.addEventListener('input', () => {
      clearTimeout(timer);
      timer = setTimeout(() => run(false), 400);
    });
    if (days) days.addEventListener('change', () => run(true));
    if (button) {
      button.addEventListener('click', (event) => {
        event.preventDefault();
        clearTimeout(timer);
        run(true);
      });
    }
  }

  // ---- digest run progress
  for (const panel of document.querySelectorAll('[data-progress-url]')) {
    const url = panel.dataset.progressUrl;
    const field = (name) => panel.querySelector(`[data-field="${name}"]`);
    const fmt = new Intl.NumberFormat('en-GB');
    let stopped = false;

    const update = (p) => {
      const bar = field('bar');
      if (bar) {
        bar.value = p.percent;
        bar.textContent = `${p.percent}%`;
      }
      const set = (name, text) => {
        const f = field(name);
        if (f && f.textContent !== text) f.textContent = text;
      };
      set('percent', `${p.percent}%`);
      if (p.run) set('status', p.run.status);
      for (const k of ['queued', 'sending', 'sent', 'failed', 'bounced']) set(k, fmt.format(p.counts[k]));
      set('total', fmt.format(p.total));
      set('rate', `${fmt.format(p.ratePerMinute)} per minute`);
      set('timeLeft', p.finished ? 'done' : p.timeLeft || 'unknown');
      panel.dataset.finished = String(p.finished);
    };

    const poll = async () => {
      if (stopped) return;
      let delay = 1500;
      try {
        const res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
        if (res.status === 401) {
          stopped = true;
          return;
        }
        if (res.ok) {
          const p = await res.json();
          update(p);
          if (p.finished) delay = 10000;
        }
      } catch {
        delay = 5000;
      }
      setTimeout(poll, document.hidden ? Math.max(delay, 10000) : delay);
    };
    poll();
  }
})();
