import type { Request, Response } from 'express';
import { ZodError } from 'zod';
import type { HandlerContext } from '../../context.js';
import { DomainError, type ErrorIssue } from '../../errors.js';
import { html, type SafeHtml } from '../html.js';
import { zodIssues } from '../errors.js';
import { adminOf, csrfOk } from './session.js';
import { noticeOf, sendPage, type Section } from './layout.js';

// What every console page handler uses: render in the frame, read form fields, turn a
// validation error into field messages.

export interface Kit {
  ctx: HandlerContext;
  render(req: Request, res: Response, o: { title: string; section: Section; body: SafeHtml; status?: number; error?: string }): void;
  actor(res: Response): string;
}

export function makeKit(ctx: HandlerContext): Kit {
  return {
    ctx,
    render(req, res, o) {
      sendPage(res, o.status ?? 200, {
        title: o.title,
        section: o.section,
        publisherName: ctx.config.mail.publisherName,
        admin: adminOf(res),
        body: o.body,
        notice: noticeOf(req.query.done),
        error: o.error,
      });
    },
    actor: (res) => adminOf(res).actor,
  };
}

/** A form field as a trimmed string ('' when absent or not a string). */
export function field(req: Request, name: string): string {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v.trim() : '';
}

/** The issues of a validation or domain error, for showing next to fields; rethrows others. */
export function issuesOf(err: unknown): { message: string; issues: ErrorIssue[]; details: Record<string, unknown> } {
  if (err instanceof ZodError) return { message: 'Please correct the fields marked below.', issues: zodIssues(err), details: {} };
  if (err instanceof DomainError && err.status < 500) return { message: err.message, issues: err.issues, details: err.details };
  throw err;
}

export const issueFor = (issues: ErrorIssue[], path: string) => issues.find((i) => i.path === path)?.message;

/** A labelled input with its error message tied to it (aria-describedby, aria-invalid). */
export function input(o: {
  name: string;
  label: string;
  value?: string | number | null;
  type?: string;
  required?: boolean;
  hint?: string | SafeHtml;
  error?: string | undefined;
  attrs?: SafeHtml;
  readonly?: boolean;
}): SafeHtml {
  const id = `f-${o.name}`;
  const described = [o.hint ? `${id}-hint` : '', o.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<p class="field"><label for="${id}">${o.label}${o.required ? html` <span class="req" aria-hidden="true">*</span>` : ''}</label>
<input id="${id}" name="${o.name}" type="${o.type ?? 'text'}" value="${o.value ?? ''}"${o.required ? html` required` : ''}${o.readonly ? html` readonly` : ''}${described ? html` aria-describedby="${described}"` : ''}${o.error ? html` aria-invalid="true"` : ''} ${o.attrs}>
${o.hint ? html`<span class="hint" id="${id}-hint">${o.hint}</span>` : ''}
${o.error ? html`<span class="error" id="${id}-error">${o.error}</span>` : ''}</p>`;
}

export function textarea(o: { name: string; label: string; value?: string; rows?: number; required?: boolean; hint?: string; error?: string | undefined }): SafeHtml {
  const id = `f-${o.name}`;
  const described = [o.hint ? `${id}-hint` : '', o.error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return html`<p class="field"><label for="${id}">${o.label}${o.required ? html` <span class="req" aria-hidden="true">*</span>` : ''}</label>
<textarea id="${id}" name="${o.name}" rows="${o.rows ?? 4}"${o.required ? html` required` : ''}${described ? html` aria-describedby="${described}"` : ''}${o.error ? html` aria-invalid="true"` : ''}>${o.value ?? ''}</textarea>
${o.hint ? html`<span class="hint" id="${id}-hint">${o.hint}</span>` : ''}
${o.error ? html`<span class="error" id="${id}-error">${o.error}</span>` : ''}</p>`;
}

/** A one-button POST form carrying the CSRF token (and a confirm prompt when JS runs). */
export function postButton(res: Response, o: { action: string; label: string; className?: string; confirm?: string; fields?: Record<string, string | number> }): SafeHtml {
  const admin = adminOf(res);
  return html`<form method="post" action="${o.action}" class="inline"${o.confirm ? html` data-confirm="${o.confirm}"` : ''}><input type="hidden" name="_csrf" value="${admin.session.csrfToken}">${Object.entries(o.fields ?? {}).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit"${o.className ? html` class="${o.className}"` : ''}>${o.label}</button></form>`;
}

export { csrfOk };
