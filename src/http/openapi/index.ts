import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { createApiKit, type ApiKit } from './kit.js';
import { describePublicApi } from '../routes/public-api.js';
import { describeTopicsApi } from '../routes/topics.js';
import { describeArticlesApi } from '../routes/articles.js';
import { describeFeedsApi } from '../routes/feeds.js';
import { describeWebhooksApi } from '../../webhooks/routes.js';
import { describeDigestsApi } from '../routes/digests.js';
import { describeAdminApi } from '../admin/api.js';
import { describeSignupPages } from '../routes/signup-pages.js';
import { describeLinkPages } from '../routes/link-pages.js';
import { describePreferencePages } from '../routes/preference-pages.js';
import { describeTopicPages } from '../routes/pages.js';
import { describeWidget } from '../routes/widget.js';
import { describeHealth } from '../routes/health.js';

// The OpenAPI document of the public contract (DESIGN §5), assembled from what each router
// declares with the zod schemas its handlers validate with, so the document cannot drift from
// what the API accepts. Built once per process by buildOpenApiDocument().

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

export interface OpenApiOptions {
  baseUrl: string;
  version: string;
  publisherName: string;
}

/** This document and its page. */
function describeMeta(api: ApiKit): void {
  const { op } = api;
  op('get', '/api/v1/openapi.json', { tag: 'Meta', id: 'getOpenApi', summary: 'This document' }, {
    responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } } },
  });
  op('get', '/api/docs', { tag: 'Meta', id: 'getApiDocs', summary: 'This document as a page' }, {
    responses: { 200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } } },
  });
}

// Schemas with an `id` go into zod's global registry, which refuses an id twice: the registry is
// built once per process, whatever the number of apps (tests start several).
let registryOnce: OpenAPIRegistry | undefined;

function buildRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  const api = createApiKit(registry);
  // Document order: the public API, the admin API, this document, then the pages.
  describePublicApi(api);
  describeTopicsApi(api);
  describeArticlesApi(api);
  describeFeedsApi(api);
  describeWebhooksApi(api, registry);
  describeDigestsApi(api);
  describeAdminApi(api);
  describeMeta(api);
  describeSignupPages(api);
  describeLinkPages(api);
  describePreferencePages(api);
  describeTopicPages(api);
  describeWidget(api);
  describeHealth(api);
  return registry;
}

export function buildOpenApiDocument(opts: OpenApiOptions): OpenApiDocument {
  const generator = new OpenApiGeneratorV31((registryOnce ??= buildRegistry()).definitions);
  return generator.generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'topic-alerts',
      version: opts.version,
      description: `Topic email alerts for ${opts.publisherName}: signup with consent, matching, digests. Errors are always \`{"error":{"code","message","issues"}}\` with the status that fits.`,
    },
    servers: [{ url: opts.baseUrl }],
    tags: [
      { name: 'Public', description: 'The widget and hosted forms; no authentication' },
      { name: 'Topics', description: 'Admin: what readers can follow' },
      { name: 'Articles', description: 'Ingest: the CMS webhook' },
      { name: 'Feeds', description: 'Admin: polled RSS/Atom sources' },
      { name: 'Webhooks', description: 'Admin: signed outgoing webhooks (Standard Webhooks); the events are under `webhooks`' },
      { name: 'Terms', description: 'Admin: terms versions' },
      { name: 'Digests', description: 'Admin: scheduler, deliveries, bounces' },
      { name: 'Subscribers', description: 'Admin: search, export, erasure, figures' },
      { name: 'Meta', description: 'This document' },
      { name: 'Pages', description: 'Server-rendered pages that work without JavaScript' },
    ],
  });
}
