import type { ErrorRequestHandler, Request, RequestHandler } from 'express';
import { ZodError } from 'zod';
import { DomainError, type ErrorIssue } from '../errors.js';
import type { Logger } from '../logger.js';
import { html, page } from './html.js';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../db/unavailable.js';

export interface ErrorBody {
  error: { code: string; message: string; issues: ErrorIssue[] } & Record<string, unknown>;
}

export function errorBody(code: string, message: string, issues: ErrorIssue[] = [], extra: Record<string, unknown> = {}): ErrorBody {
  return { error: { code, message, issues, ...extra } };
}

export function zodIssues(err: ZodError): ErrorIssue[] {
  return err.issues.map((i) => ({ path: i.path.map(String).join('.') || '(body)', message: i.message }));
}

// body-parser and express mark their own client errors with `type`/`status`: each maps to the
// public error shape with the right status instead of a generic 500.
const PARSER_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  'entity.too.large': { status: 413, code: 'payload_too_large', message: 'The request body is too large' },
  'entity.parse.failed': { status: 400, code: 'invalid_json', message: 'The request body is not valid JSON' },
  'encoding.unsupported': { status: 415, code: 'unsupported_encoding', message: 'The request body encoding is not supported' },
  'charset.unsupported': { status: 415, code: 'unsupported_charset', message: 'The request body charset is not supported' },
  'request.aborted': { status: 400, code: 'request_aborted', message: 'The request was aborted' },
  'parameters.too.many': { status: 413, code: 'too_many_parameters', message: 'The request has too many parameters' },
};

const PG_ERRORS: Record<string, { status: number; code: string; message: string }> = {
  '23505': { status: 409, code: 'conflict', message: 'This conflicts with an existing record' },
  '23503': { status: 409, code: 'conflict', message: 'This refers to a record that does not exist or is still in use' },
  '23514': { status: 400, code: 'invalid_request', message: 'A value is outside what is allowed' },
  '22001': { status: 400, code: 'invalid_request', message: 'A value is too long' },
  '22P02': { status: 400, code: 'invalid_request', message: 'A value has the wrong format' },
  '22007': { status: 400, code: 'invalid_request', message: 'A date is invalid' },
  '22008': { status: 400, code: 'invalid_request', message: 'A date is out of range' },
  '22003': { status: 400, code: 'invalid_request', message: 'A number is out of range' },
  // A NUL byte (or a character the database encoding lacks) in a value that no schema screened.
  '22021': { status: 400, code: 'invalid_request', message: 'A value contains a character that cannot be stored' },
  '22P05': { status: 400, code: 'invalid_request', message: 'A value contains a character that cannot be stored' },
};

interface HttpishError {
  type?: string;
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
}

const PAGE_TITLES: Record<number, string> = {
  400: 'Something in this request is not right',
  401: 'Not signed in',
  403: 'Not allowed',
  404: 'Not found',
  409: 'That conflicts with what is there',
  410: 'Gone',
  413: 'Too much data',
  415: 'Not a form we understand',
  429: 'Too many requests',
  503: 'Temporarily unavailable',
};

/**
 * Readers' pages (everything outside /api and the console, which has its own) answer errors
 * with a page unless the client asks for JSON: a person who sends a broken form sees HTML.
 */
function wantsPage(req: Request): boolean {
  const path = req.originalUrl.split('?')[0] ?? '';
  if (path === '/api' || path.startsWith('/api/') || path === '/admin' || path.startsWith('/admin/')) return false;
  return req.accepts(['html', 'json']) === 'html';
}

export interface ErrorHandlerOptions {
  /** Shown on error pages; without it every error is JSON. */
  publisherName?: string;
}

export function errorHandler(logger: Logger, opts: ErrorHandlerOptions = {}): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    const reply = (status: number, body: ErrorBody) => {
      if (opts.publisherName === undefined || !wantsPage(req)) {
        res.status(status).json(body);
        return;
      }
      const title = PAGE_TITLES[status] ?? (status >= 500 ? 'Something went wrong' : 'That did not work');
      const { message, issues } = body.error;
      res
        .status(status)
        .type('html')
        .send(
          page({
            title,
            publisherName: opts.publisherName,
            body: html`<h1>${title}</h1><p>${message}</p>
              ${issues.length ? html`<ul class="error">${issues.map((i) => html`<li>${i.path}: ${i.message}</li>`)}</ul>` : ''}
              <p><a href="/">Back to the start</a></p>`,
          }),
        );
    };
    if (err instanceof ZodError) {
      reply(400, errorBody('invalid_request', 'The request is invalid', zodIssues(err)));
      return;
    }
    if (err instanceof DomainError) {
      reply(err.status, errorBody(err.code, err.message, err.issues, err.details));
      return;
    }
    // The database is away (stopped, restarting): come back shortly. Every write is one
    // transaction, so nothing was half-written, and a signup sent again is the same signup.
    if (isDatabaseUnavailable(err)) {
      (req as { log?: Logger }).log?.warn({ err }, 'database unavailable') ?? logger.warn({ err }, 'database unavailable');
      res.setHeader('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
      reply(503, errorBody('database_unavailable', 'The service is briefly unavailable. Please try again in a few seconds.'));
      return;
    }
    const e = (err ?? {}) as HttpishError & { code?: unknown };
    // Constraint violations that validation did not foresee are still the client's conflict,
    // not our crash: e.g. an update that gives an article the URL of another one.
    if (typeof e.code === 'string' && PG_ERRORS[e.code]) {
      const pgErr = PG_ERRORS[e.code]!;
      reply(pgErr.status, errorBody(pgErr.code, pgErr.message));
      return;
    }
    const known = e.type ? PARSER_ERRORS[e.type] : undefined;
    if (known) {
      reply(known.status, errorBody(known.code, known.message));
      return;
    }
    const status = e.status ?? e.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      reply(status, errorBody('bad_request', e.expose && e.message ? e.message : 'The request could not be processed'));
      return;
    }
    (req as { log?: Logger }).log?.error({ err }, 'unhandled error') ?? logger.error({ err }, 'unhandled error');
    reply(500, errorBody('internal_error', 'Something went wrong on our side; the error has been logged'));
  };
}

export const apiNotFound: RequestHandler = (req, res) => {
  res.status(404).json(errorBody('not_found', `No API route for ${req.method} ${req.path}`));
};
