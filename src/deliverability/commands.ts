import type { Command } from '../cli/commands.js';
import { checkMailDns, formatFindings } from './mail-check.js';

// The deliverability loop's operator commands (merged into the CLI's list in src/cli/commands.ts).

export const DELIVERABILITY_COMMANDS: Record<string, Command> = {
  'sending:resume': {
    summary: 'resume sending after the reputation watch paused it (queued mail goes out with the next send run)',
    async run(ctx) {
      const hold = await ctx.services.reputation.hold();
      const r = await ctx.services.reputation.resume('cli');
      return { notes: hold ? [`was paused: ${hold.message}`] : [], result: r.resumed ? 'sending resumed' : 'sending was not paused' };
    },
  },

  'mail:check': {
    summary: "check the sending domain's SPF, DKIM selector, DMARC and the bounce domain's MX in DNS against the configuration",
    async run(ctx) {
      const { config } = ctx;
      const findings = await checkMailDns({
        fromDomain: config.mail.domain,
        bounceDomain: config.sending.bounceDomain,
        dkim: config.sending.dkim,
        dnsServers: config.deliverability.dnsServers,
      });
      const { lines, summary } = formatFindings(findings);
      return { notes: lines, result: summary };
    },
  },
};
