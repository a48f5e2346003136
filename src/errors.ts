// Domain errors carry the HTTP status and the stable error code of the public contract
// (DESIGN §5). Services throw them; the one error handler maps them to JSON.

export interface ErrorIssue {
  path: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly issues: ErrorIssue[] = [],
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string) => new DomainError(404, 'not_found', `${what} not found`);
export const conflict = (code: string, message: string, details: Record<string, unknown> = {}) =>
  new DomainError(409, code, message, [], details);
export const invalid = (message: string, issues: ErrorIssue[] = []) =>
  new DomainError(400, 'invalid_request', message, issues);
