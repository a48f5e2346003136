import { readFileSync } from 'node:fs';
import { Router } from 'express';
import type { HandlerContext } from '../../context.js';
import { html, page, type SafeHtml } from '../html.js';
import { buildOpenApiDocument, type OpenApiDocument } from '../openapi/index.js';

// GET /api/v1/openapi.json and GET /api/docs, the same document as JSON and as a server-rendered
// page (no script, no CDN: the CSP allows neither). Both are built once, on first request.

const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

// A JSON Schema as the generator writes it: loose on purpose, the page only reads it.
type Schema = Record<string, any>;

export function docsRouter(ctx: HandlerContext): Router {
  const router = Router();
  let doc: OpenApiDocument | undefined;
  let json: string | undefined;
  let docsPage: string | undefined;
  const document = () =>
    (doc ??= buildOpenApiDocument({ baseUrl: ctx.config.http.baseUrl, version: VERSION, publisherName: ctx.config.mail.publisherName }));

  router.get('/api/v1/openapi.json', (_req, res) => {
    json ??= JSON.stringify(document());
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('application/json').send(json);
  });

  router.get('/api/docs', (_req, res) => {
    docsPage ??= page({ title: 'API reference', publisherName: ctx.config.mail.publisherName, body: renderDocs(document()) });
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.type('html').send(docsPage);
  });

  return router;
}

// ------------------------------------------------------------------ rendering

/** Descriptions use Markdown's `code` spans and nothing else: render those, escape the rest. */
const inline = (text: unknown): SafeHtml =>
  html`${String(text ?? '')
    .split(/(`[^`]+`)/)
    .map((part) => (part.length > 2 && part.startsWith('`') && part.endsWith('`') ? html`<code>${part.slice(1, -1)}</code>` : part))}`;

function renderDocs(doc: OpenApiDocument): SafeHtml {
  const components = (doc.components?.schemas ?? {}) as Record<string, Schema>;
  const refName = (ref: string) => ref.replace('#/components/schemas/', '');
  const resolve = (s: Schema | undefined): Schema => (s && typeof s.$ref === 'string' ? (components[refName(s.$ref)] ?? {}) : (s ?? {}));

  /** One line: "string, 1–80 characters, pattern …" or "array of Topic". */
  function describe(s: Schema | undefined): string {
    if (!s) return 'any';
    if (s.$ref) return refName(s.$ref);
    const parts: string[] = [];
    const variants = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
    if (variants) return variants.map(describe).join(' or ');
    let type = Array.isArray(s.type) ? s.type.join(' or ') : (s.type ?? (s.enum ? 'enum' : s.const !== undefined ? 'constant' : 'any'));
    if (type === 'array') type = `array of ${describe(s.items)}`;
    parts.push(type);
    if (s.format) parts.push(s.format);
    if (s.enum) parts.push(`one of ${(s.enum as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`);
    if (s.const !== undefined) parts.push(`= ${JSON.stringify(s.const)}`);
    if (s.minLength !== undefined || s.maxLength !== undefined) parts.push(`${s.minLength ?? 0}–${s.maxLength ?? '∞'} characters`);
    if (s.minimum !== undefined || s.maximum !== undefined) parts.push(`${s.minimum ?? '−∞'} to ${s.maximum ?? '∞'}`);
    if (s.minItems !== undefined || s.maxItems !== undefined) parts.push(`${s.minItems ?? 0}–${s.maxItems ?? '∞'} items`);
    if (s.pattern) parts.push(`pattern ${s.pattern}`);
    if (s.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
    return parts.join(', ');
  }

  function fields(schema: Schema | undefined): SafeHtml | string {
    const s = resolve(schema);
    const name = schema?.$ref ? refName(schema.$ref) : undefined;
    if (s.type === 'array' && s.items) return html`<p>Array of ${describe(s.items)}</p>${s.items.$ref ? '' : fields(s.items)}`;
    const props = s.properties as Record<string, Schema> | undefined;
    if (!props || Object.keys(props).length === 0) return html`<p>${name ? html`<code>${name}</code>: ` : ''}${describe(s)}${s.description ? html` — ${s.description}` : ''}</p>`;
    const required = new Set<string>((s.required as string[] | undefined) ?? []);
    return html`${name ? html`<p><code>${name}</code>${s.description ? html` — ${inline(s.description)}` : ''}</p>` : s.description ? html`<p>${inline(s.description)}</p>` : ''}
      <table class="api-fields"><thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Description</th></tr></thead><tbody>
      ${Object.entries(props).map(
        ([key, p]) => html`<tr><td><code>${key}</code></td><td>${describe(p)}</td><td>${required.has(key) ? 'yes' : 'no'}</td><td>${inline(resolve(p).description)}</td></tr>`,
      )}
      </tbody></table>${s.additionalProperties === false ? html`<p class="muted">Other fields are refused.</p>` : ''}`;
  }

  const schemes = (doc.components?.securitySchemes ?? {}) as Record<string, { description?: string }>;
  const ops = Object.entries(doc.paths ?? {}).flatMap(([p, item]) =>
    METHODS.filter((m) => (item as Record<string, unknown>)[m]).map((m) => ({ path: p, method: m, op: (item as Record<string, any>)[m] as Record<string, any> })),
  );
  const tags = ((doc.tags ?? []) as { name: string; description?: string }[]).filter((t) => ops.some((o) => o.op.tags?.[0] === t.name));
  const anchor = (o: { method: string; path: string }) => `${o.method}-${o.path}`.replace(/[^A-Za-z0-9]+/g, '-').replace(/-+$/, '');

  const operation = (o: { path: string; method: string; op: Record<string, any> }) => {
    const params = (o.op.parameters ?? []) as Schema[];
    const body = o.op.requestBody as Schema | undefined;
    const security = (o.op.security ?? []) as Record<string, string[]>[];
    return html`<section class="api-op" id="${anchor(o)}">
      <h3><span class="api-method">${o.method.toUpperCase()}</span> <code>${o.path}</code></h3>
      ${o.op.summary ? html`<p><strong>${inline(o.op.summary)}</strong></p>` : ''}
      ${o.op.description ? html`<p>${inline(o.op.description)}</p>` : ''}
      <p class="muted">${security.length
        ? html`Authentication: ${security.map((s) => Object.entries(s).map(([k, scopes]) => `${k}${scopes.length ? ` (${scopes.join(', ')})` : ''}`)).flat().join(' or ')}`
        : 'No authentication'}</p>
      ${params.length
        ? html`<h4>Parameters</h4><table class="api-fields"><thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Description</th></tr></thead><tbody>
          ${params.map((p) => html`<tr><td><code>${p.name}</code></td><td>${p.in}</td><td>${describe(p.schema)}</td><td>${p.required ? 'yes' : 'no'}</td><td>${inline(p.description ?? p.schema?.description)}</td></tr>`)}
          </tbody></table>`
        : ''}
      ${body
        ? html`<h4>Request body${body.required ? '' : ' (optional)'}</h4>${body.description ? html`<p>${inline(body.description)}</p>` : ''}
          ${Object.entries((body.content ?? {}) as Record<string, { schema?: Schema }>).map(([type, c], i) => html`<p>Content type <code>${type}</code>${i > 0 ? ' (same fields)' : ''}</p>${i === 0 ? fields(c.schema) : ''}`)}`
        : ''}
      <h4>Responses</h4>
      <dl class="api-responses">
      ${Object.entries((o.op.responses ?? {}) as Record<string, Schema>).map(([status, r]) => {
        const content = Object.entries((r.content ?? {}) as Record<string, { schema?: Schema }>);
        return html`<dt><code>${status}</code></dt><dd>${inline(r.description)}${content.map(([type, c]) => html` <span class="muted">${type}${c.schema?.$ref ? html`: <a href="#schema-${refName(c.schema.$ref)}">${refName(c.schema.$ref)}</a>` : ''}</span>`)}</dd>`;
      })}
      </dl>
    </section>`;
  };

  return html`<h1>API reference</h1>
    <p>${inline(doc.info.description)}</p>
    <p>Base URL <code>${doc.servers?.[0]?.url ?? ''}</code>, version ${doc.info.version}. The same document as JSON: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI ${doc.openapi}).</p>
    <h2>Authentication</h2>
    <dl>${Object.entries(schemes).map(([name, s]) => html`<dt><code>${name}</code></dt><dd>${inline(s.description)}</dd>`)}</dl>
    <nav aria-label="Operations"><h2>Operations</h2>
      ${tags.map(
        (t) => html`<h3>${t.name}</h3><ul>${ops
          .filter((o) => o.op.tags?.[0] === t.name)
          .map((o) => html`<li><a href="#${anchor(o)}"><code>${o.method.toUpperCase()} ${o.path}</code></a> ${o.op.summary ?? ''}</li>`)}</ul>`,
      )}
    </nav>
    ${tags.map((t) => html`<h2 id="tag-${t.name}">${t.name}</h2>${t.description ? html`<p class="muted">${t.description}</p>` : ''}${ops.filter((o) => o.op.tags?.[0] === t.name).map(operation)}`)}
    <h2>Schemas</h2>
    ${Object.keys(components).map((name) => html`<section class="api-schema" id="schema-${name}"><h3>${name}</h3>${fields({ $ref: `#/components/schemas/${name}` })}</section>`)}`;
}
