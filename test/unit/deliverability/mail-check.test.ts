import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkMailDns, formatFindings, type MailCheckConfig } from '../../../src/deliverability/mail-check.js';
import { DELIVERABILITY_COMMANDS } from '../../../src/deliverability/commands.js';
import { loadConfig } from '../../../src/config/index.js';
import type { AppContext } from '../../../src/context.js';
import { startDnsServer, type TestDnsServer } from '../../helpers/dns.js';

// mail:check against a DNS server on loopback: every record right, then each one missing or
// wrong, and the line that says so.

const key = (bits: number) => generateKeyPairSync('rsa', { modulusLength: bits, publicKeyEncoding: { type: 'spki', format: 'der' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const ours = key(1024);
const other = key(1024);
const p = (k: typeof ours) => k.publicKey.toString('base64');

let dns: TestDnsServer;
const good = () => ({
  'bounces.news.example': { TXT: ['v=spf1 ip4:192.0.2.10 -all'], MX: [{ exchange: 'bounces-in.news.example', priority: 10 }] },
  's1._domainkey.news.example': { TXT: [`v=DKIM1; k=rsa; p=${p(ours)}`] },
  '_dmarc.news.example': { TXT: ['v=DMARC1; p=quarantine; rua=mailto:dmarc@news.example'] },
});

beforeAll(async () => {
  dns = await startDnsServer(good());
});
afterAll(async () => {
  await dns?.close();
});

const cfg = (): MailCheckConfig => ({
  fromDomain: 'news.example',
  bounceDomain: 'bounces.news.example',
  dkim: { domainName: 'news.example', keySelector: 's1', privateKey: ours.privateKey },
  dnsServers: [dns.address],
  timeoutMs: 2000,
});
const run = async (zone: ReturnType<typeof good>, c = cfg()) => {
  for (const k of Object.keys(dns.zone)) delete dns.zone[k];
  Object.assign(dns.zone, zone);
  const found = await checkMailDns(c);
  return { found, ...formatFindings(found) };
};

describe('mail:check', () => {
  it('finds everything in place and asks only the loopback server', async () => {
    const r = await run(good());
    console.log([...r.lines, r.summary].join('\n'));
    expect(r.found.map((f) => `${f.level} ${f.what}`)).toEqual(['ok SPF', 'ok DKIM', 'ok DMARC', 'ok MX']);
    expect(r.summary).toBe('mail:check: all records in place');
    expect(dns.questions).toEqual(expect.arrayContaining(['TXT bounces.news.example', 'TXT s1._domainkey.news.example', 'TXT _dmarc.news.example', 'MX bounces.news.example']));
  });

  it('says, line by line, what is missing', async () => {
    const r = await run({} as ReturnType<typeof good>);
    console.log([...r.lines, r.summary].join('\n'));
    expect(r.found.map((f) => `${f.level} ${f.what}`)).toEqual(['missing SPF', 'missing DKIM', 'missing DMARC', 'missing MX']);
    expect(r.lines[1]).toContain(`publish "v=DKIM1; k=rsa; p=${p(ours)}"`);
    expect(r.summary).toBe('mail:check: 4 problems, 0 warnings');
  });

  it('says what is misaligned or wrong against the configuration', async () => {
    const zone = good();
    zone['s1._domainkey.news.example'] = { TXT: [`v=DKIM1; k=rsa; p=${p(other)}`] };
    zone['bounces.news.example'].TXT = ['v=spf1 +all', 'v=spf1 -all'];
    zone['_dmarc.news.example'] = { TXT: ['v=DMARC1; p=none'] };
    const r = await run(zone);
    console.log([...r.lines, r.summary].join('\n'));
    expect(r.found.map((f) => `${f.level} ${f.what}`)).toEqual(['mismatch SPF', 'mismatch DKIM', 'warning DMARC', 'ok MX']);
    expect(r.lines[1]).toContain("publishes another key than DKIM_PRIVATE_KEY's");

    // Signing as another domain, with an unaligned return path: DMARC cannot pass.
    const off = await run(good(), { ...cfg(), bounceDomain: 'bounces.mailer.example', dkim: { ...cfg().dkim!, domainName: 'mailer.example' } });
    console.log([...off.lines, off.summary].join('\n'));
    expect(off.found.filter((f) => f.level === 'mismatch').map((f) => f.what)).toEqual(['DKIM', 'DMARC']);
    expect(off.lines.join('\n')).toContain('not aligned with the From domain news.example');
  });

  it('runs as the CLI command, from the configuration, printing the summary last', async () => {
    for (const k of Object.keys(dns.zone)) delete dns.zone[k];
    Object.assign(dns.zone, good());
    const config = loadConfig({
      NODE_ENV: 'test',
      MAIL_FROM: 'alerts@news.example',
      BOUNCE_DOMAIN: 'bounces.news.example',
      DKIM_DOMAIN: 'news.example',
      DKIM_SELECTOR: 's1',
      DKIM_PRIVATE_KEY: ours.privateKey.replace(/\n/g, '\\n'),
      DNS_SERVERS: dns.address,
    });
    const out = await DELIVERABILITY_COMMANDS['mail:check']!.run({ config } as AppContext, {});
    expect(out.notes).toHaveLength(4);
    expect(out.result).toBe('mail:check: all records in place');
  });
});
