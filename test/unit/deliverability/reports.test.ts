import { describe, expect, it } from 'vitest';
import { parseFieldGroups, parseReport } from '../../../src/deliverability/report-parser.js';
import { VerpSigner } from '../../../src/deliverability/verp.js';
import { feedbackId } from '../../../src/deliverability/feedback-id.js';
import { arf, dsn } from '../../helpers/reports.js';

const ORIGINAL = 'Message-ID: <0b1c@news.example>\r\nX-Delivery-Ref: 42-00112233aabbccdd\r\nSubject: Japan\r\nFrom: alerts@news.example';

describe('VERP tokens', () => {
  const verp = new VerpSigner('k'.repeat(40));
  it('name the delivery, signed, in lower-case hex that survives case folding', () => {
    const token = verp.token(42);
    expect(token).toMatch(/^42-[0-9a-f]{16}$/);
    expect(verp.verify(token)).toBe(42);
    expect(verp.verify(token.toUpperCase())).toBe(42);
    expect(verp.verify(`43-${token.slice(3)}`)).toBeUndefined();
    expect(verp.verify(token.slice(0, -1))).toBeUndefined();
    expect(verp.verify('42')).toBeUndefined();
    expect(new VerpSigner('x'.repeat(40)).verify(token)).toBeUndefined();
  });
});

describe('Feedback-ID', () => {
  it("is Gmail's a:b:c:SenderId, no field carrying a colon", () => {
    expect(feedbackId({ kind: 'digest', frequency: 'daily', topics: ['japan'], senderId: 'news.example' })).toBe('digest-daily:japan:digest:news.example');
    expect(feedbackId({ kind: 'digest', frequency: 'weekly', topics: ['japan', 'nato'], senderId: 'news.example' })).toBe('digest-weekly:several:digest:news.example');
    expect(feedbackId({ kind: 'confirmation', topics: ['a:b'], senderId: 'x' })).toBe('confirmation:a-b:confirmation:x');
    expect(feedbackId({ kind: 'manage-link', senderId: 'x' })).toBe('manage-link:none:manage-link:x');
  });
});

describe('reading reports', () => {
  it('field groups: folded lines, one group per blank-line block', () => {
    const groups = parseFieldGroups('Reporting-MTA: dns; a\r\n\r\nFinal-Recipient: rfc822;\r\n  x@example.com\r\nStatus: 5.1.1\r\n');
    expect(groups).toHaveLength(2);
    expect(groups[1]!.get('final-recipient')).toEqual(['rfc822; x@example.com']);
  });

  it('a DSN: 5.x.x is hard, 4.x.x soft, 2.x.x no failure; the returned headers name the delivery', async () => {
    const hard = await parseReport(Buffer.from(dsn({ to: 'b', recipient: 'r@example.com', status: '5.1.1', diagnostic: '550 5.1.1 unknown', original: ORIGINAL })));
    expect(hard).toMatchObject({ kind: 'dsn', type: 'hard', status: '5.1.1', recipient: 'r@example.com', original: { messageId: '<0b1c@news.example>', deliveryRef: '42-00112233aabbccdd' } });
    expect(hard.kind === 'dsn' && hard.detail).toBe('5.1.1 550 5.1.1 unknown');
    expect(await parseReport(Buffer.from(dsn({ to: 'b', recipient: 'r@example.com', status: '4.4.7', diagnostic: 'timeout', original: ORIGINAL })))).toMatchObject({ type: 'soft' });
    expect(await parseReport(Buffer.from(dsn({ to: 'b', recipient: 'r@example.com', status: '2.0.0', action: 'delivered', diagnostic: 'ok', original: ORIGINAL })))).toMatchObject({ kind: 'dsn', type: null });
  });

  it('an ARF report: abuse is a complaint, not-spam is not; Original-Mail-From is kept', async () => {
    const r = await parseReport(Buffer.from(arf({ to: 'c', originalMailFrom: 'bounces+42-00112233aabbccdd@b.example', originalRcptTo: 'r@example.com', original: `${ORIGINAL}\r\n\r\nbody` })));
    expect(r).toMatchObject({ kind: 'arf', feedbackType: 'abuse', complaint: true, original: { messageId: '<0b1c@news.example>', deliveryRef: '42-00112233aabbccdd', mailFrom: 'bounces+42-00112233aabbccdd@b.example' } });
    expect(await parseReport(Buffer.from(arf({ to: 'c', originalRcptTo: 'r@example.com', original: ORIGINAL, feedbackType: 'not-spam' })))).toMatchObject({ complaint: false });
  });

  it('anything else is no report, with the reason', async () => {
    expect(await parseReport(Buffer.from('Subject: Out of office\r\n\r\nBack Monday.\r\n'))).toEqual({ kind: 'none', reason: 'neither a delivery status notification nor an abuse report' });
  });
});
