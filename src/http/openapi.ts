import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { DELIVERY_KINDS, FREQUENCIES } from '../db/types.js';
import {
  articleCreateSchema,
  articleListQuerySchema,
  emailSchema,
  feedCreateSchema,
  idParamSchema,
  promptEventSchema,
  signupSchema,
  slugSchema,
  termsPublishSchema,
  topicCreateSchema,
  topicListQuerySchema,
  topicPatchSchema,
  topicTestSchema,
  widgetConfigQuerySchema,
  deliveriesQuerySchema,
  bounceSchema,
  statsQuerySchema,
  subscriberSearchQuerySchema,
} from './schemas.js';

// The OpenAPI document of the public contract (DESIGN §5), generated from the zod schemas the
// handlers validate with, so the document cannot drift from what the API accepts. Response
// shapes are written here: handlers map rows with plain functions (views.ts), not zod.
// Built once per process (it is the same for every request) by openApiDocument().

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

export interface OpenApiOptions {
  baseUrl: string;
  version: string;
  publisherName: string;
}

// ------------------------------------------------------------------ response shapes

const isoDate = z.string().meta({ format: 'date-time' });
const nullableIso = isoDate.nullable();

function buildRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();

  const ErrorBody = z
    .object({
      error: z.object({
        code: z.string().meta({ description: 'Stable machine-readable code, e.g. invalid_request, not_found, rate_limited', example: 'invalid_request' }),
        message: z.string().meta({ description: 'Human-readable explanation', example: 'The request is invalid' }),
        issues: z
          .array(z.object({ path: z.string().meta({ example: 'email' }), message: z.string().meta({ example: 'must be a valid email address' }) }))
          .meta({ description: 'One entry per invalid field; empty when the error is not about fields' }),
      }),
    })
    .meta({ id: 'Error', description: 'Every error of the API has this shape, with the status code that fits (never a stack trace).' });

  const bearer = registry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token (`npm run cli -- token:create --name N --scope admin,ingest,bounces`). Admin tokens carry every scope.',
  });
  const session = registry.registerComponent('securitySchemes', 'consoleSession', {
    type: 'apiKey',
    in: 'cookie',
    name: 'ta_admin',
    description: 'An admin console session (`__Host-ta_admin` under https); changes also need the X-CSRF-Token header.',
  });

  const Topic = z.object({
    slug: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    query: z.string(),
    normalizedQuery: z.string(),
    status: z.enum(['active', 'archived']),
    promptPriority: z.number().int(),
    promptHidden: z.boolean(),
    createdAt: isoDate,
    updatedAt: isoDate,
  }).meta({ id: 'Topic' });
  const Article = z.object({
    id: z.number().int(),
    externalId: z.string().nullable(),
    url: z.string(),
    title: z.string(),
    summary: z.string().nullable(),
    tags: z.array(z.string()),
    section: z.string().nullable(),
    language: z.string().nullable(),
    publishedAt: isoDate,
    createdAt: isoDate,
    updatedAt: isoDate,
  }).meta({ id: 'Article' });
  const Feed = z.object({
    id: z.number().int(),
    url: z.string(),
    name: z.string().nullable(),
    section: z.string().nullable(),
    tags: z.array(z.string()),
    nextPollAt: isoDate,
    lastPolledAt: nullableIso,
    lastSuccessAt: nullableIso,
    lastError: z.string().nullable(),
    lastErrorAt: nullableIso,
    consecutiveFailures: z.number().int(),
    itemsSeen: z.number().int(),
    createdAt: isoDate,
  }).meta({ id: 'Feed' });
  const TermsVersion = z.object({
    version: z.number().int(),
    title: z.string(),
    bodyMarkdown: z.string(),
    sha256: z.string(),
    placeholder: z.boolean(),
    publishedAt: isoDate,
  }).meta({ id: 'TermsVersion' });
  const WidgetConfig = z.object({
    topics: z.array(z.object({ slug: z.string(), name: z.string(), checked: z.boolean() })),
    heading: z.string(),
    submitLabel: z.string(),
    dismissLabel: z.string(),
    consent: z.object({
      mode: z.enum(['checkbox', 'statement']),
      text: z.string(),
      termsUrl: z.string(),
      termsVersion: z.number().int().nullable(),
    }),
    frequencies: z.array(z.enum(FREQUENCIES)),
    defaultFrequency: z.literal('daily'),
    snoozeDays: z.number().int(),
    publisherName: z.string(),
    formToken: z.string().meta({ description: 'Signed time-trap token; send it back as formToken' }),
  }).meta({ id: 'WidgetConfig' });
  const TopicTestResult = z.object({
    query: z.string(),
    normalizedQuery: z.string(),
    days: z.number().int(),
    count: z.number().int(),
    scanned: z.number().int(),
    truncated: z.boolean(),
    matches: z.array(Article),
  }).meta({ id: 'TopicTestResult' });
  const Delivery = z.object({
    id: z.number().int(),
    kind: z.enum(DELIVERY_KINDS),
    subscriberId: z.number().int().nullable(),
    status: z.enum(['queued', 'sending', 'sent', 'failed', 'bounced', 'cancelled']),
    messageId: z.string().nullable(),
    attempts: z.number().int(),
    nextAttemptAt: isoDate,
    lastError: z.string().nullable(),
    smtpResponse: z.string().nullable(),
    createdAt: isoDate,
    sentAt: nullableIso,
  }).meta({ id: 'Delivery' });
  const Subscriber = z.object({
    id: z.number().int(),
    email: z.string(),
    timeZone: z.string(),
    digestHour: z.number().int(),
    digestWeekday: z.number().int(),
    language: z.string().nullable(),
    pausedUntil: nullableIso,
    pausedIndefinitely: z.boolean(),
    declinedUntil: nullableIso,
    createdAt: isoDate,
  }).meta({ id: 'Subscriber' });
  const Subscription = z.object({
  topic: z.string(),
  topicName: z.string(),
  topicStatus: z.string(),
  status: z.enum(['pending', 'active', 'unsubscribed', 'declined', 'expired']),
  frequency: z.enum(FREQUENCIES),
  requestedAt: isoDate,
  confirmedAt: nullableIso,
  unsubscribedAt: nullableIso,
});
const ConsentEvent = z.object({
  id: z.number().int(),
  action: z.string(),
  topics: z.array(z.string()),
  termsVersion: z.number().int().nullable(),
  termsSha256: z.string().nullable(),
  consentText: z.string().nullable(),
  consentMode: z.string().nullable(),
  sourceUrl: z.string().nullable(),
  form: z.string().nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  createdAt: isoDate,
});
const SubscriberDelivery = z.object({
  id: z.number().int(),
  kind: z.string(),
  status: z.string(),
  toAddress: z.string().nullable(),
  messageId: z.string().nullable(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  createdAt: isoDate,
  sentAt: nullableIso,
});
const SubscriberDetail = z.object({ subscriber: Subscriber, subscriptions: z.array(Subscription), consentEvents: z.array(ConsentEvent), deliveries: z.array(SubscriberDelivery) }).meta({ id: 'SubscriberDetail' });

  // ---------------------------------------------------------------- shared responses

  const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
  const htmlPage = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });
  const err = (description: string) => json(ErrorBody, description);
  const E = {
    400: err('Invalid input: `issues` lists each invalid field'),
    401: err('No valid API token (see WWW-Authenticate)'),
    403: err('The token lacks the required scope'),
    404: err('Not found'),
    409: err('Conflict with the current state'),
    413: err('The body is larger than JSON_BODY_LIMIT'),
    415: err('The body is not of a media type this endpoint accepts'),
    429: err('Rate limit exceeded; retry after the RateLimit-Reset seconds'),
  } as const;
  const admin = (scope: 'admin' | 'ingest' | 'bounces', withSession = false) => ({
    security: [{ [bearer.name]: [scope] }, ...(withSession ? [{ [session.name]: [] }] : [])],
  });
  const jsonBody = (schema: z.ZodType, description?: string, form = false) => ({
    body: {
      required: true,
      description,
      content: { 'application/json': { schema }, ...(form ? { 'application/x-www-form-urlencoded': { schema } } : {}) },
    },
  });
  const slugParams = z.object({ slug: slugSchema.meta({ description: 'Topic slug', example: 'japan' }) });
  const idParams = z.object({ id: idParamSchema.meta({ description: 'Numeric id', example: 1 }) });
  const tokenParams = z.object({ token: z.string().meta({ description: 'Signed, purpose-bound token from the email link' }) });

  const path = (route: RouteConfig) => registry.registerPath(route);

  // ---------------------------------------------------------------- public API

  path({
    method: 'get',
    path: '/api/v1/widget-config',
    tags: ['Public'],
    operationId: 'getWidgetConfig',
    summary: 'What the signup box shows',
    description: 'Topics (slug, name), consent mode and text, terms URL and version, and a signed form token (time trap). Cacheable for a minute; CORS for ALLOWED_ORIGINS.',
    request: {
      query: widgetConfigQuerySchema.extend({
        topics: widgetConfigQuerySchema.shape.topics.meta({ description: 'Comma-separated topic slugs', example: ['japan', 'nato'], param: { style: 'form', explode: false } }),
        article: widgetConfigQuerySchema.shape.article.meta({ description: 'URL of the article the box is on; picks its topics when none are given' }),
      }),
    },
    responses: { 200: json(WidgetConfig, 'The widget configuration'), 304: { description: 'Not modified (If-None-Match)' }, 400: E[400] },
  });

  path({
    method: 'post',
    path: '/api/v1/subscriptions',
    tags: ['Public'],
    operationId: 'createSubscription',
    summary: 'Sign up (double opt-in)',
    description: 'Writes pending subscriptions and queues a confirmation mail. The answer is the same whatever the state of the address (no enumeration).',
    request: jsonBody(signupSchema, 'JSON from the widget or a form post; `topics` may be a comma-separated string', true),
    responses: {
      202: json(z.object({ status: z.literal('pending'), message: z.string() }), 'Accepted: a confirmation mail is on its way (or nothing is sent, silently)'),
      400: E[400],
      409: err('terms_outdated: the terms version shown is no longer current'),
      413: E[413],
      415: E[415],
      429: E[429],
      503: err('No terms are published yet (production)'),
    },
  });

  path({
    method: 'post',
    path: '/api/v1/prompt-events',
    tags: ['Public'],
    operationId: 'recordPromptEvent',
    summary: 'Count a prompt shown or dismissed (No Thanks)',
    description: 'Anonymous per-topic, per-day counts; no personal data. Unknown slugs are ignored.',
    request: jsonBody(promptEventSchema),
    responses: { 204: { description: 'Counted' }, 400: E[400], 413: E[413], 415: E[415], 429: E[429] },
  });

  // ---------------------------------------------------------------- admin: topics

  path({
    method: 'get',
    path: '/api/v1/topics',
    tags: ['Topics'],
    operationId: 'listTopics',
    summary: 'List topics',
    ...admin('admin'),
    request: { query: topicListQuerySchema },
    responses: { 200: json(z.object({ topics: z.array(Topic) }), 'The topics'), 400: E[400], 401: E[401], 403: E[403] },
  });
  path({
    method: 'post',
    path: '/api/v1/topics',
    tags: ['Topics'],
    operationId: 'createTopic',
    summary: 'Create a topic',
    description: 'The query is parsed and checked; tags through `tag:` in the query.',
    ...admin('admin'),
    request: jsonBody(topicCreateSchema),
    responses: {
      201: { ...json(z.object({ topic: Topic }), 'Created'), headers: { Location: { description: 'URL of the new topic', schema: { type: 'string' } } } },
      400: E[400],
      401: E[401],
      403: E[403],
      409: err('slug_taken: the slug is in use'),
      413: E[413],
    },
  });
  path({
    method: 'post',
    path: '/api/v1/topics/test',
    tags: ['Topics'],
    operationId: 'testDraftQuery',
    summary: 'Run a draft query against recent articles',
    ...admin('admin'),
    request: jsonBody(topicTestSchema, '`query` is required here'),
    responses: { 200: json(TopicTestResult, 'The matches'), 400: E[400], 401: E[401], 403: E[403] },
  });
  path({
    method: 'get',
    path: '/api/v1/topics/{slug}',
    tags: ['Topics'],
    operationId: 'getTopic',
    summary: 'One topic',
    ...admin('admin'),
    request: { params: slugParams },
    responses: { 200: json(z.object({ topic: Topic }), 'The topic'), 400: E[400], 401: E[401], 403: E[403], 404: E[404] },
  });
  path({
    method: 'patch',
    path: '/api/v1/topics/{slug}',
    tags: ['Topics'],
    operationId: 'updateTopic',
    summary: 'Change a topic',
    ...admin('admin'),
    request: { params: slugParams, ...jsonBody(topicPatchSchema) },
    responses: { 200: json(z.object({ topic: Topic }), 'The changed topic'), 400: E[400], 401: E[401], 403: E[403], 404: E[404] },
  });
  path({
    method: 'delete',
    path: '/api/v1/topics/{slug}',
    tags: ['Topics'],
    operationId: 'archiveTopic',
    summary: 'Archive a topic',
    description: 'Topics are archived, not deleted: subscriptions and consent history refer to them.',
    ...admin('admin'),
    request: { params: slugParams },
    responses: { 200: json(z.object({ topic: Topic }), 'The archived topic'), 400: E[400], 401: E[401], 403: E[403], 404: E[404] },
  });
  path({
    method: 'post',
    path: '/api/v1/topics/{slug}/test',
    tags: ['Topics'],
    operationId: 'testTopic',
    summary: "Run the topic's query (or a draft) against recent articles",
    ...admin('admin'),
    request: { params: slugParams, body: { required: false, content: { 'application/json': { schema: topicTestSchema } } } },
    responses: { 200: json(TopicTestResult, 'The matches'), 400: E[400], 401: E[401], 403: E[403], 404: E[404] },
  });

  // ---------------------------------------------------------------- admin: articles, feeds, terms

  path({
    method: 'post',
    path: '/api/v1/articles',
    tags: ['Articles'],
    operationId: 'ingestArticle',
    summary: 'Publish an article (CMS webhook)',
    description: 'Stored once (idempotent by externalId, else URL) and matched against every active topic.',
    ...admin('ingest'),
    request: jsonBody(articleCreateSchema),
    responses: {
      201: json(z.object({ article: Article, outcome: z.literal('created'), matchedTopics: z.array(z.string()) }), 'New article, with the slugs of the topics it matched'),
      200: json(z.object({ article: Article, outcome: z.string(), matchedTopics: z.array(z.string()) }), 'Known article (updated or unchanged)'),
      400: E[400],
      401: E[401],
      403: E[403],
      409: E[409],
      413: E[413],
    },
  });
  path({
    method: 'get',
    path: '/api/v1/articles',
    tags: ['Articles'],
    operationId: 'listArticles',
    summary: 'List articles, newest first',
    ...admin('ingest'),
    request: { query: articleListQuerySchema.extend({ cursor: articleListQuerySchema.shape.cursor.meta({ description: 'nextCursor of the previous page' }) }) },
    responses: {
      200: json(z.object({ articles: z.array(Article), nextCursor: z.string().nullable() }), 'A page of articles'),
      400: E[400],
      401: E[401],
      403: E[403],
      404: err('The topic does not exist'),
    },
  });

  path({
    method: 'get',
    path: '/api/v1/feeds',
    tags: ['Feeds'],
    operationId: 'listFeeds',
    summary: 'RSS/Atom sources',
    ...admin('admin'),
    responses: { 200: json(z.object({ feeds: z.array(Feed) }), 'The feeds'), 401: E[401], 403: E[403] },
  });
  path({
    method: 'post',
    path: '/api/v1/feeds',
    tags: ['Feeds'],
    operationId: 'addFeed',
    summary: 'Add a feed to poll',
    ...admin('admin'),
    request: jsonBody(feedCreateSchema),
    responses: { 201: json(z.object({ feed: Feed }), 'Added'), 400: E[400], 401: E[401], 403: E[403], 409: E[409] },
  });
  path({
    method: 'delete',
    path: '/api/v1/feeds/{id}',
    tags: ['Feeds'],
    operationId: 'removeFeed',
    summary: 'Stop polling a feed',
    ...admin('admin'),
    request: { params: idParams },
    responses: { 204: { description: 'Removed' }, 400: E[400], 401: E[401], 403: E[403], 404: E[404] },
  });

  path({
    method: 'get',
    path: '/api/v1/terms',
    tags: ['Terms'],
    operationId: 'listTerms',
    summary: 'Every published terms version',
    ...admin('admin'),
    responses: { 200: json(z.object({ terms: z.array(TermsVersion) }), 'Newest first'), 401: E[401], 403: E[403] },
  });
  path({
    method: 'post',
    path: '/api/v1/terms',
    tags: ['Terms'],
    operationId: 'publishTerms',
    summary: 'Publish a terms version (it becomes current)',
    description: 'Published versions are never edited. Signups showing an older version get 409 terms_outdated.',
    ...admin('admin'),
    request: jsonBody(termsPublishSchema),
    responses: { 201: json(z.object({ terms: TermsVersion }), 'Published'), 400: E[400], 401: E[401], 403: E[403], 413: E[413] },
  });

  // ---------------------------------------------------------------- admin: digests, deliveries, bounces

  path({
    method: 'post',
    path: '/api/v1/digests/run',
    tags: ['Digests'],
    operationId: 'runDigests',
    summary: 'Run the digest scheduler now',
    ...admin('admin'),
    responses: {
      200: json(
        z.object({ runId: z.number().int().nullable(), skipped: z.boolean().meta({ description: 'Another process holds the scheduler lock' }), scanned: z.number().int(), queued: z.number().int(), ms: z.number() }),
        'What the run did',
      ),
      401: E[401],
      403: E[403],
    },
  });
  path({
    method: 'post',
    path: '/api/v1/digests/test',
    tags: ['Digests'],
    operationId: 'sendTestMail',
    summary: 'Queue a test mail to an address',
    ...admin('admin'),
    request: jsonBody(z.strictObject({ email: emailSchema })),
    responses: { 202: json(z.object({ status: z.literal('queued'), deliveryId: z.number().int().nullable() }), 'Queued'), 400: E[400], 401: E[401], 403: E[403] },
  });
  path({
    method: 'get',
    path: '/api/v1/digests/preview',
    tags: ['Digests'],
    operationId: 'previewDigests',
    summary: "What a subscriber's digests would contain if due now",
    description: 'Nothing is queued.',
    ...admin('admin'),
    request: { query: z.object({ subscriber: idParamSchema.meta({ description: 'Subscriber id' }) }) },
    responses: {
      200: json(
        z.object({
          subscriberId: z.number().int(),
          digests: z.array(z.object({ frequency: z.enum(FREQUENCIES), articleCount: z.number().int(), subject: z.string(), html: z.string(), text: z.string() })),
        }),
        'The rendered digests',
      ),
      400: E[400],
      401: E[401],
      403: E[403],
      404: E[404],
    },
  });
  path({
    method: 'get',
    path: '/api/v1/deliveries',
    tags: ['Digests'],
    operationId: 'listDeliveries',
    summary: 'The delivery log, newest first',
    ...admin('admin'),
    request: { query: deliveriesQuerySchema },
    responses: {
      200: json(
        z.object({
          deliveries: z.array(Delivery),
          counts: z.record(z.string(), z.number().int()).meta({ description: 'Deliveries by status' }),
          sender: z.record(z.string(), z.unknown()).meta({ description: 'Sender state (paused, reason, ...)' }),
        }),
        'A page of deliveries',
      ),
      400: E[400],
      401: E[401],
      403: E[403],
    },
  });
  path({
    method: 'post',
    path: '/api/v1/bounces',
    tags: ['Digests'],
    operationId: 'recordBounce',
    summary: 'Bounce / complaint webhook',
    description: 'Hard bounces and complaints suppress the address; soft bounces do after repeated failures.',
    ...admin('bounces'),
    request: jsonBody(bounceSchema),
    responses: {
      200: json(z.object({ type: z.enum(['hard', 'soft', 'complaint']), suppressed: z.boolean(), unsubscribed: z.number().int(), deliveryId: z.number().int().nullable() }), 'Recorded'),
      400: E[400],
      401: E[401],
      403: E[403],
    },
  });

  // ---------------------------------------------------------------- admin: stats, subscribers

  path({
    method: 'get',
    path: '/api/v1/stats',
    tags: ['Subscribers'],
    operationId: 'getStats',
    summary: 'Per day and topic: shown, dismissed, signups, confirmations, declines, unsubscribes, sent, bounced',
    ...admin('admin', true),
    request: { query: statsQuerySchema },
    responses: {
      200: json(z.object({ from: z.string(), to: z.string(), days: z.array(z.record(z.string(), z.unknown())), topics: z.array(z.record(z.string(), z.unknown())) }), 'The figures'),
      400: E[400],
      401: E[401],
      403: E[403],
      404: E[404],
    },
  });
  path({
    method: 'get',
    path: '/api/v1/subscribers',
    tags: ['Subscribers'],
    operationId: 'searchSubscribers',
    summary: 'Search subscribers by address',
    ...admin('admin', true),
    request: { query: subscriberSearchQuerySchema },
    responses: { 200: json(z.object({ subscribers: z.array(Subscriber) }), 'Matching subscribers'), 400: E[400], 401: E[401], 403: E[403] },
  });
  path({
    method: 'get',
    path: '/api/v1/subscribers/{id}',
    tags: ['Subscribers'],
    operationId: 'getSubscriber',
    summary: 'One subscriber with subscriptions, consent history and deliveries',
    ...admin('admin', true),
    request: { params: idParams },
    responses: { 200: json(SubscriberDetail, 'The subscriber'), 400: E[400], 401: E[401], 403: E[403], 404: E[404] },
  });
  path({
    method: 'get',
    path: '/api/v1/subscribers/{id}/export',
    tags: ['Subscribers'],
    operationId: 'exportSubscriber',
    summary: "Download a subscriber's data",
    ...admin('admin', true),
    request: { params: idParams },
    responses: {
      200: json(SubscriberDetail.extend({ exportedAt: isoDate }), 'The data export (an attachment)'),
      400: E[400],
      401: E[401],
      403: E[403],
      404: E[404],
    },
  });
  path({
    method: 'delete',
    path: '/api/v1/subscribers/{id}',
    tags: ['Subscribers'],
    operationId: 'eraseSubscriber',
    summary: 'Erase a subscriber',
    description: 'Deletes personal data and consent payloads; keeps a keyed hash of the address in the suppression list.',
    ...admin('admin', true),
    request: { params: idParams },
    responses: { 204: { description: 'Erased' }, 400: E[400], 401: E[401], 403: E[403], 404: E[404] },
  });

  path({
    method: 'get',
    path: '/api/v1/openapi.json',
    tags: ['Meta'],
    operationId: 'getOpenApi',
    summary: 'This document',
    responses: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } } },
  });

  path({
    method: 'get',
    path: '/api/docs',
    tags: ['Meta'],
    operationId: 'getApiDocs',
    summary: 'This document as a page',
    responses: { 200: { description: 'HTML', content: { 'text/html': { schema: z.string() } } } },
  });

  // ---------------------------------------------------------------- pages (HTML, no JavaScript needed)

  const page = (method: 'get' | 'post', p: string, summary: string, responses: RouteConfig['responses'], request?: RouteConfig['request']) =>
    path({ method, path: p, tags: ['Pages'], summary, request, responses });
  const formBody = (schema: z.ZodType) => ({ body: { required: true, content: { 'application/x-www-form-urlencoded': { schema } } } });
  const topicsQuery = z.object({
    topics: z.string().optional().meta({ description: 'Comma-separated topic slugs', example: 'japan,nato' }),
    article: z.string().max(2048).optional(),
  });
  const tokenPageErrors = { 404: htmlPage('The link is not valid'), 410: htmlPage('The link has expired') };

  page('get', '/subscribe', 'Hosted signup page', { 200: htmlPage('The form'), 404: htmlPage('None of the topics is offered') }, { query: topicsQuery });
  page('post', '/subscribe', 'Hosted signup form post', {
    202: htmlPage('Check your inbox'),
    400: htmlPage('The form again, with the invalid fields marked'),
    409: htmlPage('The terms changed: the form again'),
    415: E[415],
    429: E[429],
  }, formBody(signupSchema));
  page('get', '/confirm/{token}', 'Confirmation page (changes nothing)', { 200: htmlPage('Confirm and No thanks buttons'), ...tokenPageErrors }, { params: tokenParams });
  page('post', '/confirm/{token}', 'Confirm the subscription', { 200: htmlPage('Subscribed'), 409: htmlPage('Already declined'), ...tokenPageErrors }, { params: tokenParams });
  page('post', '/decline/{token}', "No thanks, this wasn't me", { 200: htmlPage('Declined'), 409: htmlPage('Already confirmed'), ...tokenPageErrors }, { params: tokenParams });
  page('get', '/unsubscribe/{token}', 'Unsubscribe page (changes nothing)', { 200: htmlPage('A button'), ...tokenPageErrors }, { params: tokenParams });
  page(
    'post',
    '/unsubscribe/{token}',
    'Unsubscribe; also the RFC 8058 one-click target',
    { 200: htmlPage('Unsubscribed (also when repeated; never a redirect)'), ...tokenPageErrors, 415: E[415] },
    {
      params: tokenParams,
      body: {
        required: false,
        content: {
          'application/x-www-form-urlencoded': { schema: z.object({ 'List-Unsubscribe': z.literal('One-Click').optional(), scope: z.literal('all').optional() }) },
          'multipart/form-data': { schema: z.object({ 'List-Unsubscribe': z.literal('One-Click').optional() }) },
        },
      },
    },
  );
  page('get', '/preferences/{token}', 'Preference centre', { 200: htmlPage('Topics, frequency, delivery time, pause'), ...tokenPageErrors }, {
    params: tokenParams,
    query: z.object({ saved: z.literal('1').optional() }),
  });
  page('post', '/preferences/{token}', 'Save preferences', { 303: { description: 'Back to the preference centre (saved=1)' }, 400: E[400], ...tokenPageErrors, 415: E[415] }, {
    params: tokenParams,
    ...formBody(
      z.object({
        topics: z.array(slugSchema).optional(),
        timeZone: z.string().optional(),
        digestHour: z.string().optional().meta({ description: '0 to 23' }),
        digestWeekday: z.string().optional().meta({ description: '0 (Sunday) to 6' }),
        pause: z.enum(['none', 'until', 'indefinitely']).optional(),
        pausedUntil: z.string().optional().meta({ description: 'YYYY-MM-DD' }),
      }).catchall(z.string()).meta({ description: 'Plus frequency_<slug> = instant | daily | weekly per topic' }),
    ),
  });
  page('post', '/preferences/{token}/unsubscribe-all', 'Unsubscribe from every topic', { 200: htmlPage('Unsubscribed'), ...tokenPageErrors }, { params: tokenParams });
  page(
    'get',
    '/preferences/{token}/export',
    'Download my data',
    { 200: { description: 'JSON attachment', content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } } }, ...tokenPageErrors },
    { params: tokenParams },
  );
  page('post', '/preferences/{token}/erase', 'Erase my data (asks first; confirm=yes erases)', { 200: htmlPage('The question, or Erased'), ...tokenPageErrors }, {
    params: tokenParams,
    body: { required: false, content: { 'application/x-www-form-urlencoded': { schema: z.object({ confirm: z.literal('yes').optional() }) } } },
  });
  page('get', '/manage', 'Ask for a preference link', { 200: htmlPage('The form') });
  page('post', '/manage', 'Email me a preference link', { 202: htmlPage('The same answer whether or not the address is known'), 400: htmlPage('Not an address'), 415: E[415], 429: E[429] }, formBody(z.object({ email: emailSchema })));
  page('get', '/terms', 'The terms in force', { 200: htmlPage('The terms'), 404: htmlPage('None published yet') });
  page('get', '/terms/{version}', 'One terms version', { 200: htmlPage('The terms'), 404: htmlPage('No such version') }, {
    params: z.object({ version: z.string().meta({ description: 'Version number', example: '1' }) }),
  });
  page('get', '/topics/{slug}', 'Topic page: recent articles and the signup link', { 200: htmlPage('The page'), 404: htmlPage('No such topic') }, {
    params: z.object({ slug: z.string().meta({ example: 'japan' }) }),
    query: z.object({ before: z.string().optional().meta({ description: 'Paging cursor' }) }),
  });
  page(
    'get',
    '/topics/{slug}/feed.xml',
    'RSS of the topic',
    { 200: { description: 'RSS 2.0', content: { 'application/rss+xml': { schema: z.string() } } }, 404: { description: 'No such topic' } },
    { params: z.object({ slug: z.string().meta({ example: 'japan' }) }) },
  );
  page('get', '/widget.js', 'The embeddable signup box', { 200: { description: 'JavaScript', content: { 'application/javascript': { schema: z.string() } } }, 304: { description: 'Not modified' } });
  page('get', '/healthz', 'Liveness', { 200: json(z.object({ status: z.literal('ok') }), 'The process answers') });
  page('get', '/metrics', 'Prometheus metrics', { 200: { description: 'Prometheus text format', content: { 'text/plain': { schema: z.string() } } } });
  page('get', '/readyz', 'Readiness: database reachable, every migration applied', {
    200: json(z.object({ status: z.literal('ready'), database: z.literal('ok'), engine: z.string() }), 'Ready'),
    503: json(z.object({ status: z.literal('unavailable'), database: z.string(), pendingMigrations: z.array(z.string()).optional() }), 'Not ready'),
  });

  return registry;
}

// Schemas with an `id` go into zod's global registry, which refuses an id twice: the registry is
// built once per process, whatever the number of apps (tests start several).
let registryOnce: OpenAPIRegistry | undefined;

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
      { name: 'Terms', description: 'Admin: terms versions' },
      { name: 'Digests', description: 'Admin: scheduler, deliveries, bounces' },
      { name: 'Subscribers', description: 'Admin: search, export, erasure, figures' },
      { name: 'Meta', description: 'This document' },
      { name: 'Pages', description: 'Server-rendered pages that work without JavaScript' },
    ],
  });
}
