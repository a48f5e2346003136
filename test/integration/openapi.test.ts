import type { Server } from 'node:http';
import { validate } from '@readme/openapi-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';

let app: TestApp;
let doc: any;

beforeAll(async () => {
  app = await startTestApp();
  const res = await fetch(`${app.url}/api/v1/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  doc = await res.json();
});
afterAll(async () => {
  await app?.close();
});

interface RouteLayer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle: { stack?: RouteLayer[] };
  rawPath?: string | RegExp | (string | RegExp)[];
}

/** Every route express knows, as "METHOD /path/{param}", walked from the app's router stack. */
function expressRoutes(stack: RouteLayer[], prefix = ''): string[] {
  return stack.flatMap((layer) => {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      return paths.flatMap((p) =>
        Object.keys(layer.route!.methods)
          .filter((m) => m !== '_all')
          .map((m) => `${m.toUpperCase()} ${`${prefix}${p}`.replace(/\/$/, '').replace(/:(\w+)/g, '{$1}') || '/'}`),
      );
    }
    if (layer.handle.stack) {
      const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
      return expressRoutes(layer.handle.stack, prefix + mount);
    }
    return [];
  });
}

function documentedOperations(): string[] {
  return Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, item]) =>
    ['get', 'post', 'put', 'patch', 'delete'].filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${p}`),
  );
}

describe('GET /api/v1/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    const result = await validate(structuredClone(doc));
    expect(result.valid, JSON.stringify((result as { errors?: unknown }).errors ?? result, null, 2)).toBe(true);
    expect(result.warnings ?? []).toEqual([]);
  });

  it('documents every route the app serves under /api/v1, and no route it does not serve', () => {
    const server = app.service.server as Server;
    const express = server.listeners('request')[0] as unknown as { router: { stack: RouteLayer[] } };
    const served = [...new Set(expressRoutes(express.router.stack))];
    const api = served.filter((r) => r.split(' ')[1]!.startsWith('/api/v1'));
    // The walk works: a sample of known routes is there.
    expect(api).toEqual(expect.arrayContaining(['POST /api/v1/subscriptions', 'PATCH /api/v1/topics/{slug}', 'DELETE /api/v1/feeds/{id}', 'GET /api/v1/openapi.json']));
    const documented = documentedOperations();
    expect(api.filter((r) => !documented.includes(r)), 'served but not documented').toEqual([]);
    const phantom = documented.filter((r) => r.split(' ')[1]!.startsWith('/api/v1') && !api.includes(r));
    expect(phantom, 'documented but not served').toEqual([]);
    // The documented pages exist too.
    const pages = documented.filter((r) => !r.split(' ')[1]!.startsWith('/api/'));
    expect(pages.filter((r) => !served.includes(r)), 'documented pages not served').toEqual([]);
    // And every public page is documented: the console, the dev outbox and the demo are not the contract.
    const internal = /^\/(admin|dev|demo|assets|favicon\.ico)(\/|$)/;
    const publicPages = served.filter((r) => !r.split(' ')[1]!.startsWith('/api/') && !internal.test(r.split(' ')[1]!));
    expect(publicPages.filter((r) => !documented.includes(r)), 'public pages served but not documented').toEqual([]);
  });

  it('has bearer security on admin endpoints, none on public ones, and the shared error shape on every 4xx', () => {
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.schemas.Error.properties.error.required).toEqual(['code', 'message', 'issues']);
    const op = (method: string, p: string) => doc.paths[p][method];
    expect(op('post', '/api/v1/subscriptions').security).toBeUndefined();
    expect(op('get', '/api/v1/widget-config').security).toBeUndefined();
    expect(op('post', '/api/v1/articles').security).toEqual([{ bearerAuth: ['ingest'] }]);
    expect(op('post', '/api/v1/bounces').security).toEqual([{ bearerAuth: ['bounces'] }]);
    expect(op('post', '/api/v1/topics').security).toEqual([{ bearerAuth: ['admin'] }]);

    for (const [p, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, operation] of Object.entries(item)) {
        const secured = Array.isArray(operation.security) && operation.security.length > 0;
        if (secured) expect(Object.keys(operation.responses), `${method} ${p}`).toEqual(expect.arrayContaining(['401', '403']));
        for (const [status, response] of Object.entries(operation.responses as Record<string, any>)) {
          const schema = response.content?.['application/json']?.schema;
          if (status.startsWith('4') && schema) expect(schema, `${method} ${p} ${status}`).toEqual({ $ref: '#/components/schemas/Error' });
        }
      }
    }
    // Statuses the contract names.
    expect(Object.keys(op('post', '/api/v1/subscriptions').responses)).toEqual(expect.arrayContaining(['202', '400', '409', '413', '415', '429']));
    expect(Object.keys(op('post', '/api/v1/articles').responses)).toEqual(expect.arrayContaining(['200', '201']));
    expect(Object.keys(op('post', '/api/v1/prompt-events').responses)).toContain('204');
  });

  it('describes request bodies from the zod schemas the routes validate with', () => {
    const body = (method: string, p: string) => doc.paths[p][method].requestBody.content['application/json'].schema;
    const topic = body('post', '/api/v1/topics');
    expect(topic.additionalProperties).toBe(false);
    expect(topic.required).toEqual(expect.arrayContaining(['slug', 'name', 'query']));
    expect(topic.properties.slug.pattern).toBe('^[a-z0-9]+(-[a-z0-9]+)*$');
    expect(topic.properties.name.maxLength).toBe(200);
    const signup = body('post', '/api/v1/subscriptions');
    expect(signup.properties.frequency.enum).toEqual(['instant', 'daily', 'weekly']);
    expect(signup.properties.topics.maxItems).toBe(20);
    expect(doc.paths['/api/v1/subscriptions'].post.requestBody.content).toHaveProperty(['application/x-www-form-urlencoded']);
    const article = body('post', '/api/v1/articles');
    expect(article.required).toEqual(expect.arrayContaining(['url', 'title']));
    const params = doc.paths['/api/v1/articles'].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
    expect(params).toEqual(expect.arrayContaining(['query:topic', 'query:since', 'query:limit', 'query:cursor']));
    expect(doc.paths['/api/v1/topics/{slug}'].patch.parameters).toEqual([expect.objectContaining({ name: 'slug', in: 'path', required: true })]);
  });

  it('is built once and served the same every time', async () => {
    const [a, b] = await Promise.all([1, 2].map(() => fetch(`${app.url}/api/v1/openapi.json`).then((r) => r.text())));
    expect(a).toBe(b);
    expect(JSON.parse(a!)).toEqual(doc);
  });
});

describe('GET /api/docs', () => {
  it('renders every operation server-side, without script or inline style, under the CSP', async () => {
    const res = await fetch(`${app.url}/api/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    const page = await res.text();
    expect(page).toMatch(/<h1>API reference<\/h1>/);
    expect(page).not.toMatch(/<script|\sstyle=|<style|https?:\/\/cdn/i);
    expect(page).toContain('/assets/site.css');
    for (const operation of documentedOperations()) {
      const [method, p] = operation.split(' ');
      expect(page, operation).toContain(`<span class="api-method">${method}</span> <code>${p}</code>`);
    }
    // Parameters, bodies and responses are shown.
    expect(page).toMatch(/<code>slug<\/code><\/td><td>path<\/td>/);
    expect(page).toContain('application/x-www-form-urlencoded');
    expect(page).toMatch(/<dt><code>429<\/code><\/dt>/);
    expect(page).toContain('id="schema-Error"');
    expect(page).toContain('href="/api/v1/openapi.json"');
  });

  it('stays a 404 JSON error for unknown API paths next to it', async () => {
    const res = await fetch(`${app.url}/api/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found', issues: [] } });
  });
});
