import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { forbiddenReason, guardedLookup, type Resolver } from './address-guard.js';

// One signed POST to an endpoint: through the address guard (IP literals before connecting,
// names in the connect-time lookup), with a timeout over the whole exchange, no redirect
// followed (a 3xx is a failure like any other non-2xx), and at most `maxBodyBytes` of the
// answer kept (the rest is not read).

export interface PostResult {
  ok: boolean;
  statusCode: number | null;
  responseBody: string | null;
  error: string | null;
  durationMs: number;
}

export interface HttpClientOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  maxBodyBytes: number;
  resolve?: Resolver;
}

/** What a URL comes to, worked out once per URL: the request options, or why it is refused. */
type Target = { refused: string } | { refused: null; secure: boolean; options: http.RequestOptions };

const MAX_TARGETS = 1_000;

export class WebhookHttpClient {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly lookup: LookupFunction;
  // Parsing the URL and judging an IP literal cost more than signing at thousands of POSTs a
  // second, and both depend on the URL alone. Names are still judged on every connect (lookup).
  private readonly targets = new Map<string, Target>();

  constructor(private readonly opts: HttpClientOptions) {
    this.lookup = guardedLookup(opts.allowPrivate, opts.resolve);
  }

  private target(url: string): Target {
    let t = this.targets.get(url);
    if (t) return t;
    t = this.resolveTarget(url);
    if (this.targets.size >= MAX_TARGETS) this.targets.clear();
    this.targets.set(url, t);
    return t;
  }

  private resolveTarget(url: string): Target {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      return { refused: 'invalid URL' };
    }
    const host = u.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const bad = forbiddenReason(host, this.opts.allowPrivate);
      if (bad) return { refused: `refused: ${bad.message}` };
    }
    const secure = u.protocol === 'https:';
    return {
      refused: null,
      secure,
      options: { protocol: u.protocol, hostname: host, port: u.port || undefined, path: `${u.pathname}${u.search}`, auth: u.username ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}` : undefined, method: 'POST', agent: secure ? this.httpsAgent : this.httpAgent, lookup: this.lookup },
    };
  }

  post(url: string, headers: Record<string, string>, body: string): Promise<PostResult> {
    const started = performance.now();
    const t = this.target(url);
    if (t.refused !== null) return Promise.resolve({ ok: false, statusCode: null, responseBody: null, error: t.refused, durationMs: Math.round(performance.now() - started) });
    const max = this.opts.maxBodyBytes;
    return new Promise((resolve) => {
      let settled = false;
      let status = 0;
      let location: string | undefined;
      const chunks: Buffer[] = [];
      let size = 0;
      // Settles once, with what arrived so far unless `error` says otherwise.
      const finish = (error?: string | null, failedBeforeAnswer = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const ok = !failedBeforeAnswer && error == null && status >= 200 && status < 300;
        const text = failedBeforeAnswer ? null : Buffer.concat(chunks).subarray(0, max).toString('utf8');
        resolve({
          ok,
          statusCode: failedBeforeAnswer ? null : status,
          responseBody: text,
          error: ok ? null : (error ?? (status >= 300 && status < 400 ? `redirect to ${location ?? '?'} not followed` : `HTTP ${status}`)),
          durationMs: Math.round(performance.now() - started),
        });
      };
      const req = (t.secure ? https : http).request({ ...t.options, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'topic-alerts-webhooks', ...headers } }, (res) => {
        status = res.statusCode ?? 0;
        location = res.headers.location;
        res.on('data', (c: Buffer) => {
          if (size < max) chunks.push(c);
          size += c.length;
          // Enough kept: stop reading; the socket is not reused.
          if (size >= max) {
            finish();
            res.destroy();
          }
        });
        res.on('end', () => finish());
        res.on('error', (err) => finish(err.message));
        res.on('close', () => finish());
      });
      const timer = setTimeout(() => {
        finish(`timed out after ${this.opts.timeoutMs} ms`, true);
        req.destroy();
      }, this.opts.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        const refused = err.code === 'EFORBIDDEN';
        finish(refused ? `refused: ${err.message}` : err.message || String(err.code), true);
      });
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
