import { fileURLToPath } from 'node:url';
import type { Config } from './config/index.js';
import { openDatabase, type DatabaseHandle } from './db/database.js';
import { createLogger, type Logger } from './logger.js';
import { systemClock, type Clock } from './clock.js';
import { JobRegistry } from './jobs/registry.js';
import { createRepositories, type Repositories } from './repositories/index.js';
import { MatcherService } from './services/matcher.js';
import { TokenService } from './services/tokens.js';
import { TopicService } from './services/topics.js';
import { ArticleService } from './services/articles.js';
import { FeedService } from './services/feeds.js';
import { DemoService } from './services/demo.js';
import { Links, LinkSigner } from './services/links.js';
import { TermsService } from './services/terms.js';
import { SubscriptionService } from './services/subscriptions.js';
import { PreferenceService } from './services/preferences.js';
import { PromptService } from './services/prompts.js';
import { MailComposer } from './services/mail-composer.js';
import { DeliverySender } from './services/sender.js';
import { DigestScheduler } from './services/digests.js';
import { BounceService } from './services/bounces.js';
import { compileTemplates, createSmtpTransport, type MailTemplates, type MailTransport } from './mail/index.js';
import { createOutboxTransport } from './mail/outbox.js';
import { createMetrics, type Metrics } from './metrics.js';
import { PromptCountBuffer } from './services/prompt-counts.js';
import { ActiveTopicCache } from './services/topic-cache.js';
import { AdminService } from './services/admin.js';
import { AdminStatsService } from './services/admin-stats.js';
import { SystemService } from './services/system.js';
import { DigestAdminService } from './services/digest-admin.js';
import { StoryService } from './stories/service.js';
import { I18nService } from './i18n/service.js';
import { loadCatalogues, Translator } from './i18n/translator.js';
import { VerpSigner } from './deliverability/verp.js';
import { DeliverabilityRepository } from './deliverability/repository.js';
import { ReputationService } from './deliverability/reputation.js';
import { InboundMailService } from './deliverability/inbound.js';
import { registerDeliverabilityMetrics } from './deliverability/metrics.js';
import { createWebhooks, type Webhooks } from './webhooks/index.js';
import { HistoryService } from './history/service.js';

export const TEMPLATES_DIR = fileURLToPath(new URL('../templates', import.meta.url));

export interface Services {
  tokens: TokenService;
  topics: TopicService;
  articles: ArticleService;
  feeds: FeedService;
  demo: DemoService;
  terms: TermsService;
  subscriptions: SubscriptionService;
  preferences: PreferenceService;
  prompts: PromptService;
  composer: MailComposer;
  sender: DeliverySender;
  scheduler: DigestScheduler;
  bounces: BounceService;
  admin: AdminService;
  adminStats: AdminStatsService;
  digestAdmin: DigestAdminService;
  system: SystemService;
  stories: StoryService;
  i18n: I18nService;
  inbound: InboundMailService;
  reputation: ReputationService;
  webhooks: Webhooks['service'];
  webhookDeliverer: Webhooks['deliverer'];
  history: HistoryService;
}

/**
 * Everything the service is made of, built once. Handlers, services and jobs receive what they
 * use from here; none reads process.env or imports a singleton. Tests build one with their own
 * database, clock or logger.
 */
export interface AppContext {
  config: Config;
  logger: Logger;
  clock: Clock;
  database: DatabaseHandle;
  repos: Repositories;
  matcher: MatcherService;
  links: Links;
  templates: MailTemplates;
  transport: MailTransport;
  metrics: Metrics;
  services: Services;
  jobs: JobRegistry;
  close(): Promise<void>;
}

/**
 * What HTTP handlers and jobs receive: the services and the process's plumbing, not the
 * repositories or the database (DESIGN §4: handlers and jobs go through services).
 */
export type HandlerContext = Pick<AppContext, 'config' | 'logger' | 'clock' | 'links' | 'metrics' | 'services' | 'jobs'>;

export interface ContextOverrides {
  logger?: Logger;
  clock?: Clock;
  database?: DatabaseHandle;
  transport?: MailTransport;
}

export async function createContext(config: Config, overrides: ContextOverrides = {}): Promise<AppContext> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const database =
    overrides.database ??
    (await openDatabase({ url: config.database.url, pgliteDir: config.database.pgliteDir, poolSize: config.database.poolSize, applicationName: `topic-alerts ${config.roles.join('+')} ${process.pid}` }));
  const repos = createRepositories(database.db);
  const jobs = new JobRegistry(logger);
  const activeTopics = new ActiveTopicCache(repos.topics, clock);
  const matcher = new MatcherService({
    topics: repos.topics,
    articles: repos.articles,
    logger,
    maxQueryTerms: config.matching.maxQueryTerms,
    syncIntervalMs: config.matching.topicSyncIntervalMs,
    coordination: database.coordination,
    // Any change to topics (name, status, prompt settings) reaches the caches built from them.
    onTopicsChanged: () => activeTopics.invalidate(),
  });
  const templates = await compileTemplates(TEMPLATES_DIR, {
    cacheDir: config.mail.templateCacheDir,
    // Same output, but Handlebars' runtime fills it at about half the speed: worth knowing.
    onFallback: (template, part) => logger.warn({ template, part }, 'template uses a construct the compiled fill lacks; Handlebars fills it'),
  });
  const metrics = createMetrics();
  const baseTransport =
    overrides.transport ??
    (config.mail.smtpUrls.length > 0
      ? createSmtpTransport({
          urls: config.mail.smtpUrls,
          pool: { maxConnections: config.sending.poolConnections },
          dkim: config.sending.dkim,
          onFailover: ({ relay, error }) => logger.warn({ relay, error: error.message }, 'SMTP relay unreachable; trying the next'),
        })
      : createOutboxTransport(repos.outbox, clock));
  // Send latency is the relay's: measured around the transport, whatever it is.
  const transport: MailTransport = {
    ...baseTransport,
    async send(msg) {
      const stop = metrics.sendDuration.startTimer();
      try {
        return await baseTransport.send(msg);
      } finally {
        stop();
      }
    },
    close: () => baseTransport.close(),
  };
  const signer = new LinkSigner(config.secretKey);
  const links = new Links(signer, config.http.baseUrl, { unsubscribeMs: config.lifecycle.unsubscribeTtlMs, manageMs: config.lifecycle.manageTtlMs });
  const mailDomain = config.mail.domain;
  const verp = new VerpSigner(config.secretKey);
  const deliverability = new DeliverabilityRepository(database.db);
  const reputation = new ReputationService(repos, deliverability, clock, logger, config.deliverability);
  registerDeliverabilityMetrics(metrics, reputation, deliverability);
  // A recorded bounce or complaint (API or listener) re-checks the thresholds; a failed check
  // never fails the record (the worker's reputation job checks again within a minute).
  const bounces = new BounceService(repos, signer, clock, config.sending.bounceDomain, verp, async () => {
    await reputation.afterReport().catch((err: unknown) => logger.error({ err }, 'reputation check failed'));
  });
  const i18n = new I18nService(repos, clock, new Translator(loadCatalogues()), config.defaultLanguage);
  const terms = new TermsService(repos, clock, config.defaultLanguage);
  const composer = new MailComposer(repos, templates, links, clock, i18n, {
    baseUrl: config.http.baseUrl,
    from: config.mail.from,
    publisherName: config.mail.publisherName,
    postalAddress: config.mail.postalAddress,
    bounceDomain: config.sending.bounceDomain,
    unsubscribeMailto: config.sending.unsubscribeMailto,
    listId: `alerts.${mailDomain}`,
    verpToken: config.sending.bounceDomain ? (id) => verp.token(id) : undefined,
    feedbackSenderId: config.deliverability.feedbackSenderId,
    manageTtlMs: config.lifecycle.manageTtlMs,
    maxItems: config.digests.maxItems,
  });
  const stories = new StoryService(repos, clock, logger, { windowMs: config.stories.windowMs, threshold: config.stories.threshold });
  const articles = new ArticleService(repos, matcher, clock, metrics, config.stories.enabled ? stories : undefined);
  const promptCounts = new PromptCountBuffer(repos.promptCounts, logger, config.lifecycle.promptCountFlushMs);
  const topics = new TopicService(repos, matcher, clock, { maxQueryTerms: config.matching.maxQueryTerms, testDays: config.matching.topicTestDays });
  const scheduler = new DigestScheduler(repos, signer, clock, logger, {
    instantBatchMinutes: config.digests.instantBatchMinutes,
    claimsRetentionMs: config.history.claimsRetentionMs,
    batchSize: config.digests.batchSize,
    mailDomain,
    coordination: database.coordination,
    attention: config.attention,
  });
  const webhooks = createWebhooks(repos, clock, logger, config.webhooks);
  const services: Services = {
    tokens: new TokenService(repos, clock),
    topics,
    articles,
    feeds: new FeedService(repos, articles, clock, logger, {
      pollMinutes: config.feeds.pollMinutes,
      userAgent: `topic-alerts (+${config.http.baseUrl})`,
    }, metrics),
    demo: new DemoService(topics, articles, repos),
    terms,
    subscriptions: new SubscriptionService(repos, terms, links, clock, logger, {
      consentMode: config.consentMode,
      defaultTimeZone: config.defaultTimeZone,
      confirmTtlMs: config.lifecycle.confirmTtlMs,
      pendingTtlMs: config.lifecycle.pendingTtlMs,
      confirmMailDailyLimit: config.lifecycle.confirmMailDailyLimit,
      declineQuietDays: config.lifecycle.declineQuietDays,
      minFormAgeMs: 2000,
      maxFormAgeMs: 2 * 86_400_000,
      mailDomain,
    }, promptCounts, activeTopics, i18n, metrics),
    preferences: new PreferenceService(repos, links, terms, clock, {
      consentMode: config.consentMode,
      manageMailDailyLimit: config.lifecycle.confirmMailDailyLimit,
      mailDomain,
    }, i18n, metrics),
    prompts: new PromptService(repos, terms, links, clock, {
      consentMode: config.consentMode,
      baseUrl: config.http.baseUrl,
      publisherName: config.mail.publisherName,
      snoozeDays: config.lifecycle.promptSnoozeDays,
      maxTopics: config.lifecycle.promptMaxTopics,
      defaultTopics: config.lifecycle.promptDefaultTopics,
    }, promptCounts, activeTopics, i18n, metrics),
    composer,
    sender: new DeliverySender(repos, composer, transport, signer, clock, logger, {
      batchSize: config.sending.batchSize,
      leaseMs: config.sending.leaseMs,
      maxAttempts: config.sending.maxAttempts,
      retryBaseMs: config.sending.retryBaseMs,
      concurrency: config.sending.concurrency,
      ratePerSecond: config.sending.ratePerSecond,
      hold: () => reputation.isHeld(),
    }),
    scheduler,
    bounces,
    admin: new AdminService(repos, links, clock, logger, {
      sessionTtlMs: config.admin.sessionTtlMs,
      confirmTtlMs: config.lifecycle.confirmTtlMs,
      mailDomain,
    }),
    adminStats: new AdminStatsService(repos, clock),
    digestAdmin: new DigestAdminService(repos, scheduler, composer, clock, { mailDomain }),
    system: new SystemService(repos, database.engine),
    stories,
    i18n,
    inbound: new InboundMailService(deliverability, bounces, verp, clock, logger, {
      bounceDomain: config.sending.bounceDomain,
      complaintsAddress: config.deliverability.complaintsAddress,
    }),
    reputation,
    webhooks: webhooks.service,
    webhookDeliverer: webhooks.deliverer,
    history: new HistoryService(repos, clock, logger, config.history),
  };

  let closed = false;
  return {
    config,
    logger,
    clock,
    database,
    repos,
    matcher,
    links,
    templates,
    transport,
    metrics,
    services,
    jobs,
    async close() {
      if (closed) return;
      closed = true;
      await jobs.stop();
      await matcher.stop();
      await promptCounts.stop();
      await transport.close();
      webhooks.close();
      await database.close();
    },
  };
}
