import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { forbiddenReason } from '../../../src/webhooks/address-guard.js';
import { sign, signatureHeaders } from '../../../src/webhooks/signer.js';
import { newSecret } from '../../../src/webhooks/repository.js';

describe('Standard Webhooks signatures', () => {
  it('match the reference library, which verifies them as a receiver would', () => {
    const secret = newSecret();
    const body = JSON.stringify({ type: 'subscriber.confirmed', timestamp: '2026-12-02T10:00:00.000Z', data: { subscriberId: 1 } });
    const now = new Date();
    const headers = signatureHeaders({ secret, previousSecret: null, previousSecretExpiresAt: null }, 'msg_abc', now, body);
    expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('msg_abc', new Date(Math.floor(now.getTime() / 1000) * 1000), body));
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow('No matching signature');
    expect(() => new Webhook(secret).verify(body.replace('1}', '2}'), headers)).toThrow();
  });

  it('the spec example: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', () => {
    // From the Standard Webhooks specification's test vectors.
    const body = '{"test": 2432232314}';
    expect(sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, body)).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('carry both signatures during a rotation grace period, then only the new one', () => {
    const [oldSecret, newOne] = [newSecret(), newSecret()];
    const now = new Date();
    const during = signatureHeaders({ secret: newOne, previousSecret: oldSecret, previousSecretExpiresAt: new Date(now.getTime() + 1000) }, 'msg_1', now, '{}');
    expect(during['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => new Webhook(oldSecret).verify('{}', during)).not.toThrow();
    expect(() => new Webhook(newOne).verify('{}', during)).not.toThrow();
    const after = signatureHeaders({ secret: newOne, previousSecret: oldSecret, previousSecretExpiresAt: new Date(now.getTime() - 1) }, 'msg_1', now, '{}');
    expect(() => new Webhook(oldSecret).verify('{}', after)).toThrow();
  });
});

describe('the address guard', () => {
  it('refuses link-local always, private and loopback unless allowed, and lets public addresses through', () => {
    for (const ip of ['169.254.169.254', '169.254.0.1', 'fe80::1', 'febf::1', '::ffff:169.254.169.254', '::ffff:a9fe:a9fe', '64:ff9b::a9fe:a9fe', '64:ff9b::169.254.169.254', '::169.254.169.254']) {
      expect(forbiddenReason(ip, true)?.reason, ip).toBe('link-local');
    }
    for (const ip of ['127.0.0.1', '127.5.5.5', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::10.0.0.1']) {
      expect(forbiddenReason(ip, false)?.reason, ip).toBe('private');
      expect(forbiddenReason(ip, true), ip).toBeUndefined();
    }
    for (const ip of ['224.0.0.1', '255.255.255.255', 'ff02::1']) expect(forbiddenReason(ip, true)?.reason, ip).toBe('reserved');
    for (const ip of ['93.184.216.34', '172.32.0.1', '2606:4700::1111', '8.8.8.8', '64:ff9b::808:808', '::ffff:8.8.8.8']) expect(forbiddenReason(ip, false), ip).toBeUndefined();
  });
});
