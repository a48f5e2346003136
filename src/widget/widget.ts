// The embeddable signup box (GET /widget.js). Plain DOM, no framework, bundled and minified by
// src/widget/build.ts when the server starts.
//
//   <div data-topic-alerts data-topics="japan,nato" data-article="https://…/article"></div>
//   (data-lang="ar" picks the language; else the server goes by the article's, the page's lang,
//   then the browser's)
//   <script async src="https://alerts.example.com/widget.js"></script>
//
// Every [data-topic-alerts] element (present now, at DOMContentLoaded, or added later) gets a
// shadow root with the box. Anything inside the element is fallback content (e.g. a link to
// /subscribe): it stays visible if the box cannot render. Whatever goes wrong (config request
// fails, no topics, storage blocked) the box renders nothing and never throws into the page.
//
// The box's code is in three parts: ./state.ts (the config and what is remembered),
// ./render.ts (the DOM) and ./submit.ts (what the buttons do). This file finds and mounts the
// boxes; build.ts bundles from here.
import { applyStyles } from './render.js';
import { isDismissed, loadConfig, postEvent, uniqueSorted, type BoxState } from './state.js';
import { show } from './submit.js';

function findBase(): URL | undefined {
  let src = (document.currentScript as HTMLScriptElement | null)?.src;
  if (!src) {
    const scripts = document.querySelectorAll<HTMLScriptElement>('script[src]');
    for (let i = scripts.length - 1; i >= 0 && !src; i--) {
      if (/\/widget\.js(?:[?#]|$)/.test(scripts[i]!.src)) src = scripts[i]!.src;
    }
  }
  // The directory of widget.js, so a service mounted under a path prefix works too.
  return src ? new URL('.', src) : undefined;
}

function mount(host: HTMLElement, base: URL): void {
  const requested = (host.getAttribute('data-topics') ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const article = host.getAttribute('data-article')?.trim() || undefined;
  if (requested.length === 0 && !article) return;
  // data-lang on the embed wins; else the language of the page around it (the box's element or an ancestor)
  const lang = host.getAttribute('data-lang')?.trim() || undefined;
  const pageLang = (host.closest('[lang]')?.getAttribute('lang') ?? document.documentElement.lang)?.trim() || undefined;
  if (isDismissed(requested)) return;

  const api = (path: string) => new URL('api/v1/' + path, base).toString();
  const init: Partial<BoxState> = { requested, article, lang, pageLang, api, tokenAt: 0, slugs: [], busy: false, topicBoxes: [], errorEls: {} };
  // cfg and root are set below before anything reads them, the form's elements by render()
  const state = init as BoxState;

  void (async () => {
    const loaded = await loadConfig(state);
    if (!loaded) return;
    state.cfg = loaded;
    state.slugs = uniqueSorted(loaded.topics.map((t) => t.slug));
    if (isDismissed(state.slugs)) return;
    try {
      state.root = host.attachShadow({ mode: 'open' });
    } catch {
      return; // already has a shadow root: someone else owns this element
    }
    applyStyles(state.root);
    show(state);
    postEvent(state, 'shown');
  })().catch(() => undefined);
}

(() => {
  const base = findBase();
  if (!base) return;
  const w = window as unknown as Record<string, WeakSet<Element> | undefined>;
  // One registry per page (the script may be included twice): each element is mounted once.
  const seen = (w.__topicAlertsSeen ??= new WeakSet<Element>());
  const scan = () => {
    for (const el of document.querySelectorAll<HTMLElement>('[data-topic-alerts]')) {
      if (seen.has(el) || el.shadowRoot) continue;
      seen.add(el);
      try {
        mount(el, base);
      } catch {
        // never an error in the reader's page
      }
    }
  };
  scan();
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', scan);
  // Boxes added later (infinite scroll, client-side navigation).
  let pending = false;
  try {
    new MutationObserver(() => {
      if (pending) return;
      pending = true;
      setTimeout(() => {
        pending = false;
        scan();
      }, 50);
    }).observe(document.documentElement, { childList: true, subtree: true });
  } catch {
    // no observer: present and DOMContentLoaded boxes only
  }
})();
