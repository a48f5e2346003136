import { createPublicKey } from 'node:crypto';
import { Resolver } from 'node:dns/promises';

// `npm run cli -- mail:check`: what mailbox providers will find in DNS for our mail, against the
// configuration. Gmail, Yahoo and Microsoft want SPF or DKIM aligned with the From domain and a
// DMARC record; bounces from the internet go to the MX of the return path's domain. Each finding
// is one line: "ok", "missing", "mismatch" or "warning", with what to do.

export interface MailCheckConfig {
  /** The From address's domain (MAIL_FROM). */
  fromDomain: string;
  /** The envelope sender's domain: BOUNCE_DOMAIN (VERP) or the From domain. */
  bounceDomain: string | undefined;
  dkim: { domainName: string; keySelector: string; privateKey: string } | undefined;
  /** DNS servers to ask (host or host:port); empty: the system's. */
  dnsServers: string[];
  timeoutMs?: number;
}

export interface Finding {
  level: 'ok' | 'missing' | 'mismatch' | 'warning';
  what: 'SPF' | 'DKIM' | 'DMARC' | 'MX';
  message: string;
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'ENONAME']);

/** Relaxed alignment (RFC 7489 §3.1): one domain is the other or a subdomain of it (organizational domains approximated so). */
function aligned(a: string, b: string, strict: boolean): boolean {
  const x = a.toLowerCase().replace(/\.$/, '');
  const y = b.toLowerCase().replace(/\.$/, '');
  if (strict) return x === y;
  return x === y || x.endsWith(`.${y}`) || y.endsWith(`.${x}`);
}

/** Tag=value pairs of a DKIM or DMARC record. */
function tags(record: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of record.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).replace(/\s+/g, '').trim());
  }
  return out;
}

export async function checkMailDns(cfg: MailCheckConfig): Promise<Finding[]> {
  const resolver = new Resolver({ timeout: cfg.timeoutMs ?? 3000, tries: 2 });
  if (cfg.dnsServers.length > 0) resolver.setServers(cfg.dnsServers);
  const txt = async (name: string): Promise<string[]> => {
    try {
      return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
    } catch (err) {
      if (NOT_FOUND.has((err as NodeJS.ErrnoException).code ?? '')) return [];
      throw new Error(`DNS lookup of ${name} failed: ${(err as Error).message}`);
    }
  };
  const findings: Finding[] = [];
  const add = (level: Finding['level'], what: Finding['what'], message: string) => findings.push({ level, what, message });
  const envelopeDomain = cfg.bounceDomain ?? cfg.fromDomain;

  // SPF: checked for the envelope sender's domain, which is what receivers evaluate.
  const spf = (await txt(envelopeDomain)).filter((r) => /^v=spf1(\s|$)/i.test(r));
  if (spf.length === 0) add('missing', 'SPF', `no "v=spf1" TXT record at ${envelopeDomain}: publish one that includes your SMTP relay, e.g. "v=spf1 include:<relay's SPF domain> -all"`);
  else if (spf.length > 1) add('mismatch', 'SPF', `${spf.length} "v=spf1" records at ${envelopeDomain}: receivers treat that as an error (permerror); merge them into one`);
  else {
    const all = /\s([-~?+])all\b/i.exec(spf[0]!)?.[1];
    if (all === '+') add('mismatch', 'SPF', `${envelopeDomain} says "+all": anyone may send as you; end it with -all or ~all`);
    else if (!all && !/\sredirect=/i.test(spf[0]!)) add('warning', 'SPF', `${envelopeDomain}: "${spf[0]}" has no "all" at the end; add -all or ~all`);
    else add('ok', 'SPF', `${envelopeDomain}: "${spf[0]}"`);
  }
  const dmarcName = `_dmarc.${cfg.fromDomain}`;
  const dmarc = (await txt(dmarcName)).filter((r) => /^v=DMARC1(\s|;|$)/i.test(r));
  const dmarcTags = dmarc.length === 1 ? tags(dmarc[0]!) : new Map<string, string>();
  const spfAligned = aligned(envelopeDomain, cfg.fromDomain, dmarcTags.get('aspf') === 's');
  if (!spfAligned) add('warning', 'SPF', `the envelope domain ${envelopeDomain} is not aligned with the From domain ${cfg.fromDomain}: DMARC then rests on DKIM alone`);

  // DKIM: the selector's record must carry the public half of the configured key.
  let dkimAligned = false;
  if (!cfg.dkim) add('missing', 'DKIM', 'signing is not configured: set DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY');
  else {
    const name = `${cfg.dkim.keySelector}._domainkey.${cfg.dkim.domainName}`;
    const records = (await txt(name)).filter((r) => /(^|;)\s*p=/i.test(r));
    const ours = createPublicKey(cfg.dkim.privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
    if (records.length === 0) add('missing', 'DKIM', `no key at ${name}: publish "v=DKIM1; k=rsa; p=${ours}"`);
    else {
      const p = tags(records[0]!).get('p') ?? '';
      if (p === '') add('mismatch', 'DKIM', `${name} has an empty p= (the key is revoked)`);
      else if (p !== ours) add('mismatch', 'DKIM', `${name} publishes another key than DKIM_PRIVATE_KEY's: signatures will fail; publish "p=${ours}"`);
      else add('ok', 'DKIM', `${name} publishes the configured key`);
    }
    dkimAligned = aligned(cfg.dkim.domainName, cfg.fromDomain, dmarcTags.get('adkim') === 's');
    if (!dkimAligned) add('mismatch', 'DKIM', `DKIM_DOMAIN ${cfg.dkim.domainName} is not aligned with the From domain ${cfg.fromDomain}: DMARC will not pass on DKIM; sign as ${cfg.fromDomain} or a parent of it`);
  }

  if (dmarc.length === 0) add('missing', 'DMARC', `no "v=DMARC1" TXT record at ${dmarcName}: publish at least "v=DMARC1; p=none; rua=mailto:dmarc@${cfg.fromDomain}" (Gmail and Yahoo require one)`);
  else if (dmarc.length > 1) add('mismatch', 'DMARC', `${dmarc.length} DMARC records at ${dmarcName}: receivers ignore them all; keep one`);
  else {
    const policy = dmarcTags.get('p');
    if (!policy || !['none', 'quarantine', 'reject'].includes(policy.toLowerCase())) add('mismatch', 'DMARC', `${dmarcName}: "${dmarc[0]}" has no valid p= (none, quarantine or reject)`);
    else if (!spfAligned && !dkimAligned) add('mismatch', 'DMARC', `${dmarcName}: p=${policy}, but neither SPF nor DKIM is aligned with ${cfg.fromDomain}: mail will fail DMARC`);
    else add(policy.toLowerCase() === 'none' ? 'warning' : 'ok', 'DMARC', `${dmarcName}: p=${policy}${policy.toLowerCase() === 'none' ? ' (monitoring only: enough for the providers, quarantine or reject protects the domain)' : ''}`);
  }

  // Bounces from the internet go to the MX of the return path's domain: the listener's host.
  if (cfg.bounceDomain) {
    let mx: { exchange: string; priority: number }[] = [];
    try {
      mx = await resolver.resolveMx(cfg.bounceDomain);
    } catch (err) {
      if (!NOT_FOUND.has((err as NodeJS.ErrnoException).code ?? '')) throw new Error(`DNS lookup of ${cfg.bounceDomain} failed: ${(err as Error).message}`);
    }
    if (mx.length === 0) add('missing', 'MX', `no MX for ${cfg.bounceDomain}: remote servers cannot return bounces; point it at the host of the bounces role (port 25 forwarded to INBOUND_SMTP_PORT)`);
    else add('ok', 'MX', `${cfg.bounceDomain} → ${mx.sort((a, b) => a.priority - b.priority).map((m) => `${m.exchange} (${m.priority})`).join(', ')}`);
  } else add('warning', 'MX', 'BOUNCE_DOMAIN is not set: bounces go to the From address and are not read (no VERP)');
  return findings;
}

/** One line per finding, then the summary line a script reads. */
export function formatFindings(findings: Finding[]): { lines: string[]; summary: string } {
  const lines = findings.map((f) => `${f.level.padEnd(8)} ${f.what.padEnd(5)} ${f.message}`);
  const problems = findings.filter((f) => f.level === 'missing' || f.level === 'mismatch').length;
  const warnings = findings.filter((f) => f.level === 'warning').length;
  return { lines, summary: problems === 0 ? `mail:check: all records in place${warnings ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}` : `mail:check: ${problems} problem${problems === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}` };
}
