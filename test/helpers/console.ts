// The admin console as a browser sees it, one step at a time: cookies kept, redirects not followed.

/** A cookie-keeping client that does not follow redirects, like a browser's view of one step. */
export class ConsoleClient {
  constructor(private readonly baseUrl: string) {}

  cookies = new Map<string, string>();
  csrf = '';

  async request(method: string, path: string, body?: Record<string, string | string[]>, headers: Record<string, string> = {}) {
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(body ?? {})) for (const one of Array.isArray(v) ? v : [v]) form.append(k, one);
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: {
        ...(this.cookies.size > 0 ? { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {}),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      body: body ? form.toString() : undefined,
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (/max-age=0/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
    if (token) this.csrf = token;
    return { status: res.status, text, headers: res.headers, location: res.headers.get('location') };
  }
  get(path: string) {
    return this.request('GET', path);
  }
  /** A console form POST with this session's CSRF token. */
  post(path: string, body: Record<string, string | string[]> = {}) {
    return this.request('POST', path, { _csrf: this.csrf, ...body });
  }
  async login(email: string, password: string) {
    const page = await this.get('/admin/login');
    const nonce = /name="_login" value="([^"]+)"/.exec(page.text)![1]!;
    const res = await this.request('POST', '/admin/login', { _login: nonce, email, password, next: '/admin' });
    if (res.status === 303) await this.get('/admin');
    return res;
  }
}
