import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

// A tiny authoritative DNS server on 127.0.0.1 (UDP) for tests: answers TXT and MX questions
// from a table, NXDOMAIN for names it does not know, an empty answer for a known name without
// that type. Enough for node:dns's resolver; nothing leaves the machine.

export interface DnsZone {
  [name: string]: { TXT?: string[]; MX?: { exchange: string; priority: number }[] };
}

export interface TestDnsServer {
  /** `127.0.0.1:port`, for Resolver.setServers / DNS_SERVERS. */
  address: string;
  zone: DnsZone;
  questions: string[];
  close(): Promise<void>;
}

const TYPES: Record<number, 'TXT' | 'MX'> = { 16: 'TXT', 15: 'MX' };

function readName(buf: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = offset;
  while (buf[i]! !== 0) {
    const len = buf[i]!;
    labels.push(buf.subarray(i + 1, i + 1 + len).toString('latin1'));
    i += len + 1;
  }
  return { name: labels.join('.').toLowerCase(), end: i + 1 };
}

function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'latin1')]));
  return Buffer.concat([...parts, Buffer.from([0])]);
}

function txtData(value: string): Buffer {
  const chunks: Buffer[] = [];
  // character-strings of at most 255 bytes each, as long DKIM keys are published
  for (let i = 0; i < value.length || i === 0; i += 255) {
    const s = Buffer.from(value.slice(i, i + 255), 'latin1');
    chunks.push(Buffer.from([s.length]), s);
  }
  return Buffer.concat(chunks);
}

function answer(rtype: number, data: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // pointer to the question's name
  head.writeUInt16BE(rtype, 2);
  head.writeUInt16BE(1, 4); // IN
  head.writeUInt32BE(60, 6);
  head.writeUInt16BE(data.length, 10);
  return Buffer.concat([head, data]);
}

export async function startDnsServer(zone: DnsZone): Promise<TestDnsServer> {
  const socket = dgram.createSocket('udp4');
  const questions: string[] = [];
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    const { name, end } = readName(msg, 12);
    const qtype = msg.readUInt16BE(end);
    const type = TYPES[qtype];
    questions.push(`${type ?? qtype} ${name}`);
    const entry = zone[name];
    const records: Buffer[] = [];
    if (entry && type === 'TXT') for (const v of entry.TXT ?? []) records.push(answer(16, txtData(v)));
    if (entry && type === 'MX') {
      for (const mx of entry.MX ?? []) {
        const pref = Buffer.alloc(2);
        pref.writeUInt16BE(mx.priority, 0);
        records.push(answer(15, Buffer.concat([pref, encodeName(mx.exchange)])));
      }
    }
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | (entry ? 0 : 3), 2); // response, authoritative, RD copied, NXDOMAIN when unknown
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(records.length, 6);
    const question = msg.subarray(12, end + 4);
    socket.send(Buffer.concat([header, question, ...records]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address() as AddressInfo;
  return { address: `127.0.0.1:${port}`, zone, questions, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
}
