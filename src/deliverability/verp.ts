import { createHmac, timingSafeEqual } from 'node:crypto';

// The VERP token in the return path `bounces+<token>@BOUNCE_DOMAIN` is `<deliveryId>-<mac>`:
// the listener is open to the internet, so a stranger must not be able to bounce or complain
// about a delivery by guessing its number. Lower-case hex, because relays and mailbox
// providers may fold the case of a local part.

const MAC_HEX = 16; // 64 bits: enough that guessing costs far more mail than it could bounce

export class VerpSigner {
  constructor(private readonly secret: string) {}

  private mac(deliveryId: number): string {
    return createHmac('sha256', this.secret).update(`verp|${deliveryId}`).digest('hex').slice(0, MAC_HEX);
  }

  /** The token for a delivery: what goes between `+` and `@`, and in X-Delivery-Ref. */
  token(deliveryId: number): string {
    return `${deliveryId}-${this.mac(deliveryId)}`;
  }

  /** The delivery id a token names, or undefined when it is not one we made. */
  verify(token: string): number | undefined {
    const m = /^(\d{1,15})-([0-9a-f]+)$/i.exec(token.trim());
    if (!m) return undefined;
    const id = Number(m[1]);
    const given = Buffer.from(m[2]!.toLowerCase());
    const expected = Buffer.from(this.mac(id));
    return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
  }
}
