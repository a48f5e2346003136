import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';

// Where a webhook may not go. Link-local (169.254.0.0/16, fe80::/10: where cloud metadata
// services answer) is refused always; loopback, private, shared and unspecified addresses unless
// WEBHOOK_ALLOW_PRIVATE. Checked when an endpoint is saved and again at connect time on the
// address DNS gave, so a name that resolves (or later re-resolves) to such an address is
// refused too.

const linkLocal = new BlockList();
linkLocal.addSubnet('169.254.0.0', 16, 'ipv4');
linkLocal.addSubnet('fe80::', 10, 'ipv6');

const privateRanges = new BlockList();
for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['198.18.0.0', 15]] as const) {
  privateRanges.addSubnet(net, prefix, 'ipv4');
}
privateRanges.addAddress('::1', 'ipv6');
privateRanges.addAddress('::', 'ipv6');
privateRanges.addSubnet('fc00::', 7, 'ipv6');

const never = new BlockList();
never.addSubnet('224.0.0.0', 4, 'ipv4'); // multicast
never.addSubnet('240.0.0.0', 4, 'ipv4'); // reserved, broadcast
never.addSubnet('ff00::', 8, 'ipv6');

export class ForbiddenAddressError extends Error {
  constructor(
    readonly address: string,
    readonly reason: 'link-local' | 'private' | 'reserved',
  ) {
    super(reason === 'private' ? `${address} is a loopback or private address (set WEBHOOK_ALLOW_PRIVATE=true to allow it)` : `${address} is a ${reason} address, never allowed`);
    this.name = 'ForbiddenAddressError';
  }
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail counts as two). */
function groups(address: string): number[] {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const part = (p: string | undefined) =>
    (p ? p.split(':') : []).flatMap((g) => (g.includes('.') ? ((o) => [(o[0]! << 8) | o[1]!, (o[2]! << 8) | o[3]!])(g.split('.').map(Number)) : [parseInt(g, 16)]));
  const h = part(head);
  const t = part(tail);
  return tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
}

// IPv6 forms that carry an IPv4 address a gateway may reach: mapped (::ffff:0:0/96, which
// BlockList already judges as IPv4), NAT64's well-known prefix (64:ff9b::/96) and the old
// compatible form (::/96). Those are judged as the IPv4 address they carry.
const embedsIpv4 = new BlockList();
embedsIpv4.addSubnet('64:ff9b::', 96, 'ipv6');
embedsIpv4.addSubnet('::', 96, 'ipv6');

function unmap(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  if (isIP(address) !== 6) return { address, family: 'ipv4' };
  if (embedsIpv4.check(address, 'ipv6') && address !== '::' && address !== '::1') {
    const g = groups(address);
    return { address: [g[6]! >> 8, g[6]! & 255, g[7]! >> 8, g[7]! & 255].join('.'), family: 'ipv4' };
  }
  return { address, family: 'ipv6' };
}

/** Why an IP address is refused, or undefined when it may be used. */
export function forbiddenReason(ip: string, allowPrivate: boolean): ForbiddenAddressError | undefined {
  const { address, family } = unmap(ip.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  if (linkLocal.check(address, family)) return new ForbiddenAddressError(ip, 'link-local');
  if (never.check(address, family)) return new ForbiddenAddressError(ip, 'reserved');
  if (!allowPrivate && privateRanges.check(address, family)) return new ForbiddenAddressError(ip, 'private');
  return undefined;
}

export type Resolver = (hostname: string, cb: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

export const systemResolver: Resolver = (hostname, cb) => dnsLookup(hostname, { all: true, verbatim: true }, cb);

/**
 * A `lookup` for http.request: resolves with `resolve`, refuses the connection when any address
 * the name has is forbidden (a name with one bad address among good ones is not trusted), else
 * connects to what the resolver gave.
 */
export function guardedLookup(allowPrivate: boolean, resolve: Resolver = systemResolver): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, cb: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    resolve(hostname, (err, addresses) => {
      if (err) return cb(err, '', 0);
      if (addresses.length === 0) return cb(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      for (const a of addresses) {
        const bad = forbiddenReason(a.address, allowPrivate);
        if (bad) return cb(Object.assign(bad, { code: 'EFORBIDDEN' }), '', 0);
      }
      if (options?.all) return cb(null, addresses);
      return cb(null, addresses[0]!.address, addresses[0]!.family);
    });
  }) as LookupFunction;
}

/** Resolves a hostname with `resolve`; an IP literal is itself. Undefined when the name does not resolve. */
export function resolveAll(hostname: string, resolve: Resolver = systemResolver): Promise<string[] | undefined> {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return Promise.resolve([bare]);
  return new Promise((ok) => resolve(bare, (err, addresses) => ok(err ? undefined : addresses.map((a) => a.address))));
}
