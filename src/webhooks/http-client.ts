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

export class WebhookHttpClient {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 64 });
  private readonly lookup: LookupFunction;

  constructor(private readonly opts: HttpClientOptions) {
    this.lookup = guardedLookup(opts.allowPrivate, opts.resolve);
  }

  post(url: string, headers: Record<string, string>, body: string): Promise<PostResult> {
    const started = performance.now();
    const done = (r: Omit<PostResult, 'durationMs'>): PostResult => ({ ...r, durationMs: Math.round(performance.now() - started) });
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return Promise.resolve(done({ ok: false, statusCode: null, responseBody: null, error: 'invalid URL' }));
    }
    const host = target.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host)) {
      const bad = forbiddenReason(host, this.opts.allowPrivate);
      if (bad) return Promise.resolve(done({ ok: false, statusCode: null, responseBody: null, error: `refused: ${bad.message}` }));
    }
    const secure = target.protocol === 'https:';
    return new Promise((resolve) => {
      let settled = false;
      const finish = (r: Omit<PostResult, 'durationMs'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(done(r));
      };
      const req = (secure ? https : http).request(
        target,
        {
          method: 'POST',
          agent: secure ? this.httpsAgent : this.httpAgent,
          lookup: this.lookup,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'topic-alerts-webhooks', ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          const status = res.statusCode ?? 0;
          const result = () => {
            const text = Buffer.concat(chunks).subarray(0, this.opts.maxBodyBytes).toString('utf8');
            const ok = status >= 200 && status < 300;
            const error = ok ? null : status >= 300 && status < 400 ? `redirect to ${res.headers.location ?? '?'} not followed` : `HTTP ${status}`;
            return { ok, statusCode: status, responseBody: text, error };
          };
          res.on('data', (c: Buffer) => {
            if (size < this.opts.maxBodyBytes) chunks.push(c);
            size += c.length;
            // Enough kept: stop reading; the socket is not reused.
            if (size >= this.opts.maxBodyBytes) {
              finish(result());
              res.destroy();
            }
          });
          res.on('end', () => finish(result()));
          res.on('error', (err) => finish({ ...result(), ok: false, error: err.message }));
          res.on('close', () => finish(result()));
        },
      );
      const timer = setTimeout(() => {
        finish({ ok: false, statusCode: null, responseBody: null, error: `timed out after ${this.opts.timeoutMs} ms` });
        req.destroy();
      }, this.opts.timeoutMs);
      req.on('error', (err: NodeJS.ErrnoException) => {
        const refused = err.code === 'EFORBIDDEN';
        finish({ ok: false, statusCode: null, responseBody: null, error: refused ? `refused: ${err.message}` : err.message || String(err.code) });
      });
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
