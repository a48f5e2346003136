import { z } from 'zod';
import { languageOf, LANGUAGES } from '../i18n/languages.js';
import { DELIVERY_KINDS, FREQUENCIES } from '../db/types.js';

// Request shapes of the public contract (DESIGN §5), validated at the edge. Objects are strict:
// a misspelt field is an error the client sees, not a value silently ignored.

const noControl = (s: string) => !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(s);
const text = (max: number) => z.string().max(max, { error: `must be at most ${max} characters` }).refine(noControl, { error: 'must not contain control characters' });
const line = (max: number) => text(max).refine((s) => !/[\r\n]/.test(s), { error: 'must be a single line' });
export const httpUrl = line(2048).refine(
  (s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  },
  { error: 'must be an absolute http(s) URL' },
);

export const slugSchema = z
  .string()
  .min(1, { error: 'is required' })
  .max(80, { error: 'must be at most 80 characters' })
  .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, { error: 'must be kebab-case: lower-case letters, digits and single hyphens' });

/** A language readers can read here, as a BCP 47 tag ("ar", "pt-BR" → pt). */
export const languageSchema = z
  .string()
  .max(35)
  .transform((v, ctx) => {
    const lang = languageOf(v);
    if (!lang) {
      ctx.addIssue({ code: 'custom', message: `must be one of ${LANGUAGES.join(', ')}` });
      return z.NEVER;
    }
    return lang;
  });

export const topicCreateSchema = z.strictObject({
  slug: slugSchema,
  name: line(200).min(1, { error: 'is required' }),
  description: text(2000).optional(),
  query: line(2000).min(1, { error: 'is required' }),
  status: z.enum(['active', 'archived']).optional(),
  promptPriority: z.number().int().min(-1000).max(1000).optional(),
  promptHidden: z.boolean().optional(),
  names: z.partialRecord(z.enum(LANGUAGES, { error: `each key must be one of ${LANGUAGES.join(', ')}` }), line(200).min(1, { error: 'is required' })).optional(),
});

export const topicPatchSchema = topicCreateSchema.omit({ slug: true }).partial();

export const topicListQuerySchema = z.object({ status: z.enum(['active', 'archived']).optional() });

export const topicTestSchema = z.strictObject({
  query: line(2000).min(1).optional(),
  days: z.number().int().min(1).max(3650).optional(),
  limit: z.number().int().min(1).max(200).optional(),
});

export const articleCreateSchema = z.strictObject({
  externalId: line(500).min(1).optional().nullable(),
  url: httpUrl,
  title: line(500).min(1, { error: 'is required' }),
  summary: text(5000).optional().nullable(),
  body: text(200_000).optional().nullable(),
  tags: z.array(line(100).min(1)).max(50).optional().nullable(),
  section: line(100).optional().nullable(),
  language: z
    .string()
    .regex(/^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$/, { error: 'must be a language code such as en or pt-BR' })
    .optional()
    .nullable(),
  publishedAt: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time such as 2026-02-19T09:00:00Z' }).optional().nullable(),
  update: z.boolean({ error: 'must be true or false' }).optional(),
  updateOf: line(2048).min(1).optional().nullable(),
});

export const articleListQuerySchema = z.object({
  topic: slugSchema.optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export const feedCreateSchema = z.strictObject({
  url: httpUrl,
  name: line(200).optional(),
  section: line(100).optional().nullable(),
  tags: z.array(line(100).min(1)).max(20).optional(),
});

export const idParamSchema = z.coerce.number().int().min(1).max(2 ** 31 - 1);

// ---- signup and prompts (JSON from the widget, urlencoded from the hosted form)

const csvList = (v: unknown) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v);
const formBool = (v: unknown) => (v === 'on' || v === 'true' || v === '1' || v === 'yes' ? true : v === 'false' || v === '0' || v === '' ? false : v);

export const emailSchema = z
  .string({ error: 'is required' })
  .trim()
  .min(1, { error: 'is required' })
  .max(254, { error: 'must be at most 254 characters' })
  .refine((s) => !/[\r\n]/.test(s), { error: 'must be a single line' })
  .pipe(z.email({ error: 'must be a valid email address' }));

export const topicSlugsSchema = z.preprocess(
  csvList,
  z.array(slugSchema, { error: 'must list topic slugs' }).min(1, { error: 'choose at least one topic' }).max(20, { error: 'at most 20 topics' }),
);

export const frequencySchema = z.enum(FREQUENCIES, { error: `must be ${FREQUENCIES.join(', ')}` });

export const signupSchema = z.object({
  email: emailSchema,
  topics: topicSlugsSchema,
  frequency: z.preprocess((v) => (v === '' ? undefined : v), frequencySchema.default('daily')),
  acceptTerms: z.preprocess(formBool, z.boolean({ error: 'must be true' })).optional().default(false),
  termsVersion: z.coerce.number({ error: 'must be the terms version shown' }).int().min(1),
  sourceUrl: z.preprocess((v) => (v === '' ? undefined : v), httpUrl.optional().nullable()),
  formToken: line(300).optional().nullable(),
  website: z.string().max(1000).optional().nullable(),
  language: z.preprocess((v) => (v === '' ? undefined : v), languageSchema.optional().nullable()),
});

export const widgetConfigQuerySchema = z.object({
  topics: z.preprocess(csvList, z.array(z.string().max(80)).max(20)).optional(),
  article: text(2048).optional(),
  // Hints, never errors (a reader's page must not break): an unknown language is ignored.
  lang: z.string().max(35).optional(),
  pageLang: z.string().max(35).optional(),
});

export const promptEventSchema = z.strictObject({
  topics: z.array(z.string().max(80)).min(1).max(20),
  event: z.enum(['shown', 'dismissed']),
});

export const termsTextSchema = z.strictObject({
  title: line(200).min(1, { error: 'is required' }),
  bodyMarkdown: text(200_000).min(1, { error: 'is required' }),
});

export const termsPublishSchema = termsTextSchema.extend({
  language: languageSchema.optional(),
  translations: z.record(languageSchema, termsTextSchema).optional(),
});

export const manageRequestSchema = z.object({ email: emailSchema });

const hourOfDay = z.number({ error: 'must be an hour' }).int().min(0, { error: 'must be 0 to 23' }).max(23, { error: 'must be 0 to 23' });

/** PATCH /api/v1/subscribers/:id: a reader's attention controls, as the preference centre sets them. */
export const subscriberAttentionSchema = z
  .strictObject({
    quietHours: z.union([z.strictObject({ start: hourOfDay, end: hourOfDay }), z.literal('off'), z.null()]).optional(),
    instantDailyCap: z.number().int().min(0).max(1000).nullable().optional(),
    snooze: z.union([z.enum(['none', 'indefinitely']), z.literal(1), z.literal(7), z.literal(30)]).optional(),
    language: languageSchema.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { error: 'name at least one of quietHours, instantDailyCap, snooze, language' });

// ---- admin and relay query/body shapes (shared with the OpenAPI document)

export const deliveriesQuerySchema = z.object({
  status: z.enum(['queued', 'sending', 'sent', 'failed', 'bounced', 'cancelled']).optional(),
  kind: z.enum(DELIVERY_KINDS).optional(),
  before: z.coerce.number().int().min(1).optional().meta({ description: 'Only deliveries with a smaller id (keyset paging)' }),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const bounceSchema = z
  .strictObject({
    email: z.string().max(254).optional().meta({ description: 'The bounced address, or the VERP return path bounces+<delivery>-<signature>@BOUNCE_DOMAIN (or bounces+<delivery>@BOUNCE_DOMAIN)' }),
    messageId: z.string().max(300).optional().meta({ description: 'Message-ID of the bounced mail' }),
    type: z.enum(['hard', 'soft', 'complaint'], { error: 'must be hard, soft or complaint' }),
    detail: z.string().max(2000).optional(),
  })
  .refine((b) => b.email || b.messageId, { error: 'give the address (email) or the Message-ID (messageId)', path: ['email'] })
  .meta({ description: 'Give email or messageId (or both).' });

export const statsQuerySchema = z.object({
  days: z.coerce.number().int().min(1).max(365).default(30),
  topic: slugSchema.optional(),
});

export const subscriberSearchQuerySchema = z.object({
  q: z.string().trim().min(2, { error: 'must be at least 2 characters' }).max(254).meta({ description: 'Part of an address (at least 2 characters)' }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
