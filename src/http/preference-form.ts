import { z } from 'zod';
import { frequencySchema, languageSchema, slugSchema } from './schemas.js';
import type { PreferenceChanges } from '../services/preferences.js';
import { isTimeZone } from '../time-zone.js';

// The preference centre's form, validated at the edge into the changes the service applies.
// Fields: topics, frequency_<slug>, timeZone, digestHour, digestWeekday; snooze (none, keep,
// 1/7/30 days, indefinitely; the older pause=until&pausedUntil=YYYY-MM-DD still works); quiet
// (default, off, custom with quietFrom/quietTo); instantCap (default or a number, 0 = no cap).

const hour = z.coerce.number({ error: 'must be an hour' }).int({ error: 'must be 0 to 23' }).min(0, { error: 'must be 0 to 23' }).max(23, { error: 'must be 0 to 23' });
const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? v.split(',') : []);
const timeZone = z.string().trim().min(1).max(64).refine(isTimeZone, { error: 'must be an IANA time zone such as Europe/London' });

export const SNOOZE_DAYS = [1, 7, 30] as const;

export const preferenceFormSchema = z
  .object({
    topics: z.preprocess(list, z.array(slugSchema)),
    timeZone,
    digestHour: hour,
    digestWeekday: z.coerce.number().int().min(0, { error: 'must be 0 to 6' }).max(6, { error: 'must be 0 to 6' }),
    snooze: z.enum(['none', 'keep', 'indefinitely', ...SNOOZE_DAYS.map(String)] as [string, ...string[]]).optional(),
    pause: z.enum(['none', 'until', 'indefinitely']).optional(),
    pausedUntil: z.string().optional(),
    quiet: z.enum(['default', 'off', 'custom']).optional(),
    quietFrom: hour.optional(),
    quietTo: hour.optional(),
    instantCap: z.union([z.literal('default'), z.coerce.number({ error: 'must be a number' }).int().min(0).max(1000)]).optional(),
    language: languageSchema.optional(),
    shownIn: languageSchema.optional(),
  })
  .catchall(z.unknown())
  .superRefine((v, ctx) => {
    if (v.quiet === 'custom' && (v.quietFrom === undefined || v.quietTo === undefined)) ctx.addIssue({ code: 'custom', path: ['quietFrom'], message: 'choose when quiet hours start and end' });
    if (v.quiet === 'custom' && v.quietFrom === v.quietTo) ctx.addIssue({ code: 'custom', path: ['quietTo'], message: 'must differ from the start' });
    if (v.pause === 'until' && !(typeof v.pausedUntil === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v.pausedUntil) && !Number.isNaN(Date.parse(v.pausedUntil)))) {
      ctx.addIssue({ code: 'custom', path: ['pausedUntil'], message: 'must be a date' });
    }
  })
  .transform((v): PreferenceChanges => {
    const frequencies: PreferenceChanges['frequencies'] = {};
    for (const [k, value] of Object.entries(v)) if (k.startsWith('frequency_')) frequencies[k.slice('frequency_'.length)] = frequencySchema.parse(value);
    let snooze: PreferenceChanges['snooze'] = { kind: 'none' };
    if (v.snooze === 'keep') snooze = { kind: 'keep' };
    else if (v.snooze === 'indefinitely' || (!v.snooze && v.pause === 'indefinitely')) snooze = { kind: 'indefinitely' };
    else if (v.snooze && v.snooze !== 'none') snooze = { kind: 'days', days: Number(v.snooze) };
    else if (!v.snooze && v.pause === 'until') snooze = { kind: 'until', until: new Date(`${v.pausedUntil}T00:00:00Z`) };
    const quiet = v.quiet === 'custom' ? { start: v.quietFrom!, end: v.quietTo! } : v.quiet;
    return {
      topics: v.topics,
      frequencies,
      timeZone: v.timeZone,
      digestHour: v.digestHour,
      digestWeekday: v.digestWeekday,
      snooze,
      ...(quiet !== undefined && { quiet }),
      ...(v.instantCap !== undefined && { instantDailyCap: v.instantCap }),
      ...(v.language !== undefined && { language: v.language }),
      ...(v.shownIn !== undefined && { shownIn: v.shownIn }),
    };
  });
