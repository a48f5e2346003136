import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { LANGUAGES } from '../../i18n/languages.js';
import { DELIVERY_KINDS, FREQUENCIES } from '../../db/types.js';
import { idParamSchema, slugSchema } from '../schemas.js';

// What every router's part of the OpenAPI document is written with: the shared response shapes
// (handlers map rows with plain functions in views.ts, not zod, so the shapes are stated here),
// the error answers, the security schemes and small builders. Each router declares its own
// paths (its `describe…` function) with the zod schemas it validates with.

export const isoDate = z.string().meta({ format: 'date-time' });
export const nullableIso = isoDate.nullable();

export type ApiKit = ReturnType<typeof createApiKit>;

/** Built once per process: schemas with an `id` go into zod's global registry, which refuses an id twice. */
export function createApiKit(registry: OpenAPIRegistry) {
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
    names: z.record(z.string(), z.string()).meta({ description: 'The name per language where it differs from `name` ({"ar": "اليابان"})' }),
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
    storyId: z.number().int().meta({ description: "The id of its story's first article (its own id when it starts one)" }),
    isUpdate: z.boolean().meta({ description: 'Marked by an editor as an update of its story' }),
    createdAt: isoDate,
    updatedAt: isoDate,
  }).meta({ id: 'Article' });
  const Story = z
    .object({
      id: z.number().int(),
      firstArticleId: z.number().int(),
      similarity: z.number().nullable().meta({ description: 'Containment (0..1) of the smaller text in the larger; null for a story of its own' }),
    })
    .meta({ id: 'Story', description: 'The story the article joined: syndicated and wire copies of one event are one story, sent to a reader once' });
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
    language: z.string().meta({ description: 'The language of this text' }),
    title: z.string(),
    bodyMarkdown: z.string(),
    sha256: z.string(),
    placeholder: z.boolean(),
    publishedAt: isoDate,
    translations: z.array(z.object({ language: z.string(), title: z.string(), bodyMarkdown: z.string(), sha256: z.string() })).meta({ description: 'The same version in other languages; a reader accepts the text in their language (its hash is in their consent)' }),
  }).meta({ id: 'TermsVersion' });
  const WidgetConfig = z.object({
    language: z.enum(LANGUAGES).meta({ description: 'The language chosen: ?lang=, else the article\'s, else the page\'s lang, else Accept-Language, else DEFAULT_LANGUAGE' }),
    dir: z.enum(['ltr', 'rtl']),
    topics: z.array(z.object({ slug: z.string(), name: z.string(), checked: z.boolean() })),
    heading: z.string(),
    submitLabel: z.string(),
    dismissLabel: z.string(),
    strings: z.record(z.string(), z.string()).meta({ description: 'Every other word of the box in `language` (labels, status and error messages), by name' }),
    consent: z.object({
      mode: z.enum(['checkbox', 'statement']),
      text: z.string().meta({ description: 'Shown to the reader and recorded with their consent' }),
      linkText: z.string().meta({ description: 'The words of `text` that link to termsUrl' }),
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
    quietHours: z.object({ start: z.number().int(), end: z.number().int() }).nullable().meta({ description: "Local quiet hours for instant alerts; null: the publisher's default; start = end: none" }),
    instantDailyCap: z.number().int().nullable().meta({ description: "Instant alerts a day at most; 0: no cap; null: the publisher's default" }),
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
    language: z.string().nullable().meta({ description: 'The language the consent text was shown in' }),
    termsLanguage: z.string().nullable().meta({ description: 'The language of the terms text accepted (termsSha256 is its hash)' }),
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

  /**
   * One API operation: where it is, what it is called, who may call it, what it takes and
   * answers; `errors` lists the error statuses it may give, each with the shared error body.
   */
  const op = (
    method: RouteConfig['method'],
    route: string,
    meta: { tag: string; id: string; summary: string; description?: string; scope?: 'admin' | 'ingest' | 'bounces'; session?: boolean },
    spec: { request?: RouteConfig['request']; responses: RouteConfig['responses']; errors?: (keyof typeof E)[] },
  ) =>
    path({
      method,
      path: route,
      tags: [meta.tag],
      operationId: meta.id,
      summary: meta.summary,
      ...(meta.description && { description: meta.description }),
      ...(meta.scope && admin(meta.scope, meta.session)),
      ...(spec.request && { request: spec.request }),
      responses: { ...spec.responses, ...Object.fromEntries((spec.errors ?? []).map((code) => [code, E[code]])) },
    });

  const page = (method: 'get' | 'post', p: string, summary: string, responses: RouteConfig['responses'], request?: RouteConfig['request']) =>
    path({ method, path: p, tags: ['Pages'], summary, request, responses });
  const formBody = (schema: z.ZodType) => ({ body: { required: true, content: { 'application/x-www-form-urlencoded': { schema } } } });
  const topicsQuery = z.object({
    topics: z.string().optional().meta({ description: 'Comma-separated topic slugs', example: 'japan,nato' }),
    article: z.string().max(2048).optional(),
  });
  const tokenPageErrors = { 404: htmlPage('The link is not valid'), 410: htmlPage('The link has expired') };

  return {
    path, op, page, json, htmlPage, err, E, admin, jsonBody, formBody, slugParams, idParams, tokenParams, tokenPageErrors, topicsQuery,
    shapes: { ErrorBody, Topic, Article, Story, Feed, TermsVersion, WidgetConfig, TopicTestResult, Delivery, Subscriber, Subscription, ConsentEvent, SubscriberDelivery, SubscriberDetail },
  };
}
