// The data each mail template is filled with, what compileTemplates takes and returns, and its
// error. Every template gets the common fields; dates may be Date or ISO strings.
import type { Frequency } from '../db/types.js';

export interface MailCommonData {
  /** BCP 47 language tag: `<html lang>` and the locale for dates, lists and plurals. */
  lang: string;
  /** IANA time zone in which dates are shown, e.g. `Europe/London`. */
  timeZone: string;
  publisherName: string;
  postalAddress: string;
  /** Public base URL of the service, e.g. `https://alerts.example.com`. */
  baseUrl: string;
  /** Hidden preview text; each template has a sensible default when omitted. */
  preheader?: string;
  preferencesUrl?: string;
  unsubscribeUrl?: string;
  /** Optional logo shown in the header (alt text is the publisher name). */
  logoUrl?: string;
}

export interface TopicRef {
  name: string;
  slug: string;
}

export interface ConfirmMailData extends MailCommonData {
  topics: TopicRef[];
  frequency: Frequency;
  confirmUrl: string;
  /** "No thanks, this wasn't me". The confirmation mail carries this instead of unsubscribe. */
  declineUrl: string;
  expiresAt: Date | string;
  termsVersion: string | number;
  termsUrl: string;
}

export interface ManageLinkMailData extends MailCommonData {
  preferencesUrl: string;
  expiresAt: Date | string;
}

export interface DigestArticle {
  title: string;
  url: string;
  summary?: string | null;
  publishedAt: Date | string;
  /** The other outlets that carried the same story, when its copies collapsed into this entry. */
  alsoReportedBy?: string[] | null;
}

export interface DigestSection {
  topic: TopicRef & { url: string };
  /** Unsubscribes from this topic only. */
  unsubscribeUrl: string;
  articles: DigestArticle[];
  /** Matches left out of this section (0 when none); linked to `moreUrl`. */
  moreCount: number;
  moreUrl: string;
}

export interface DigestMailData extends MailCommonData {
  sections: DigestSection[];
  /** All new articles, including the ones counted in `moreCount`. */
  articleCount: number;
  topicNames: string[];
  /** When the subscriber confirmed (shown in "why you get this"). */
  confirmedAt: Date | string | null;
  frequency?: Frequency;
  preferencesUrl: string;
  /** Unsubscribe from all topics: also the target of the List-Unsubscribe header. */
  unsubscribeUrl: string;
}

export interface TemplateDataMap {
  confirm: ConfirmMailData;
  'manage-link': ManageLinkMailData;
  digest: DigestMailData;
}

export type TemplateName = keyof TemplateDataMap;

export interface RenderedMail {
  /** Never contains CR or LF. */
  subject: string;
  html: string;
  text: string;
}

export interface MailTemplates {
  /** Names of every compiled template (`<name>.mjml` in the directory). */
  readonly names: readonly string[];
  render<N extends TemplateName>(name: N, data: TemplateDataMap[N]): RenderedMail;
}

export interface CompileTemplatesOptions {
  /** MJML validation; `strict` (the default) fails start-up on any MJML error. */
  validationLevel?: 'strict' | 'soft';
  /** Receives MJML warnings in `soft` mode. */
  onWarning?: (message: string) => void;
  /**
   * A folder for the MJML output, keyed by a hash of every template source, the mjml version
   * and the options. A process that finds its key there never loads mjml (~60 MB of modules):
   * workers start faster and stay smaller. Unset: always compile.
   */
  cacheDir?: string;
  /**
   * What fills a template per recipient: `compiled` (the default) turns each template into a
   * plain JS function (./fill.ts), falling back to Handlebars for constructs it does not cover;
   * `handlebars` always uses Handlebars' runtime. Both give the same bytes; the tests compare them.
   */
  fill?: 'compiled' | 'handlebars';
  /**
   * Called for each part (`subject`, `html`, `text`) that the compiled fill does not cover, which
   * Handlebars' runtime then fills: the same output, about half the speed.
   */
  onFallback?: (template: string, part: 'subject' | 'html' | 'text') => void;
}

export class TemplateCompileError extends Error {
  constructor(
    message: string,
    readonly template: string,
    readonly details: string[] = [],
  ) {
    super(details.length > 0 ? `${message}\n  ${details.join('\n  ')}` : message);
    this.name = 'TemplateCompileError';
  }
}
