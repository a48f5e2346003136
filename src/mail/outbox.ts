import nodemailer from 'nodemailer';
import type { SendMailOptions } from 'nodemailer';
import type { OutboxRepository } from '../repositories/outbox.js';
import type { Clock } from '../clock.js';
import type { MailTransport, SendResult } from './transport.js';

/**
 * The development outbox: with no SMTP_URL, mail is composed exactly as for SMTP (nodemailer
 * builds the MIME message) and stored, so /dev/mail shows every header and both parts.
 */
export function createOutboxTransport(outbox: OutboxRepository, clock: Clock): MailTransport {
  const builder = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    async send(msg: SendMailOptions): Promise<SendResult> {
      const info = (await builder.sendMail(msg)) as unknown as { message: Buffer; messageId: string; envelope: { from: string; to: string[] } };
      const raw = info.message.toString('utf8');
      const headerEnd = raw.indexOf('\n\n');
      const deliveryId = (msg.headers as Record<string, string> | undefined)?.['X-Delivery-Id'];
      await outbox.insert(
        {
          deliveryId: deliveryId ? Number(deliveryId) : null,
          messageId: info.messageId,
          envelopeFrom: info.envelope.from,
          recipient: info.envelope.to.join(', '),
          subject: String(msg.subject ?? ''),
          rawHeaders: headerEnd >= 0 ? raw.slice(0, headerEnd) : raw,
          html: String(msg.html ?? ''),
          text: String(msg.text ?? ''),
        },
        clock.now(),
      );
      return { messageId: info.messageId, response: '250 stored in the development outbox', accepted: info.envelope.to, rejected: [] };
    },
    async close() {
      builder.close();
    },
  };
}
