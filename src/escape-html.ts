// HTML escaping, for every layer that writes markup: the pages (http/html.ts) and the services
// that render stored text (terms Markdown). Here rather than in http/ so services need not
// import the web layer.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}
