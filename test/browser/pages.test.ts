import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { apiClient } from '../helpers/api.js';
import { startSmtpServer, type TestSmtpServer } from '../helpers/smtp.js';
import { readerFlows } from '../helpers/flows.js';
import { ARTIFACTS, HAS_CHROMIUM, launchChromium, seriousAxeViolations } from '../helpers/browser.js';

if (!HAS_CHROMIUM) console.warn('test/browser: /usr/bin/chromium not found, hosted page browser tests skipped (.ci/run installs it)');

// The reader's hosted pages in a real browser: signup, the confirmation mail as rendered HTML,
// confirm, preferences, unsubscribe; axe on each. The pages carry no script at all (the CSP
// forbids inline scripts and they load none), so what works here works without JavaScript.
describe.skipIf(!HAS_CHROMIUM)('hosted pages in Chromium', () => {
  let smtp: TestSmtpServer;
  let app: TestApp;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    app = await startTestApp({ SMTP_URL: smtp.url, PUBLISHER_NAME: 'Daily Bugle', POSTAL_ADDRESS: '1 Fleet Street, London' });
    const admin = await apiClient(app);
    for (const [slug, name] of [['japan', 'Japan'], ['nato', 'NATO'], ['energy', 'Energy']]) await admin.post('/api/v1/topics', { slug, name, query: slug });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 900, height: 1200 } })).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await smtp?.close();
  });

  it('signs up on the hosted page without JavaScript, confirms from the mail, and manages preferences; no serious axe violation', async () => {
    await page.goto(`${app.url}/subscribe?topics=japan,nato`);
    expect(await page.locator('script').count()).toBe(0);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByLabel('Email address').fill('hosted@example.com');
    await page.getByLabel('NATO').check();
    await page.getByLabel('How often').selectOption('instant');
    // Submitting with the consent box unticked re-renders the form with the error.
    app.clock.advance(3000);
    await page.getByRole('button', { name: 'Sign up for free today' }).click();
    await page.getByText('Please correct the marked fields.').waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByLabel('Email address').fill('hosted@example.com');
    await page.getByRole('checkbox', { name: /I agree to the/ }).check();
    app.clock.advance(3000);
    await page.getByRole('button', { name: 'Sign up for free today' }).click();
    await page.getByRole('heading', { name: 'Check your inbox' }).waitFor();

    const flows = readerFlows(app, smtp);
    const [mail] = await flows.sendQueued();
    expect(mail!.subject).toBe('Confirm your alerts: Japan and NATO');
    // The confirmation mail as a mail client would show it.
    const mailPage = await (await browser.newContext({ javaScriptEnabled: false, viewport: { width: 700, height: 1000 } })).newPage();
    await mailPage.setContent(String(mail!.html));
    await mailPage.screenshot({ path: path.join(ARTIFACTS, 'confirmation-mail.png'), fullPage: true });

    await page.goto(flows.linkTo(mail!, '/confirm/')!);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { name: "You're subscribed" }).waitFor();
    await page.getByRole('link', { name: 'Manage your alerts' }).click();
    await page.getByRole('heading', { name: 'Your alert preferences' }).waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'preferences.png'), fullPage: true });

    await page.getByRole('checkbox', { name: 'Receive Energy' }).check();
    await page.getByRole('radio', { name: 'Until I turn alerts back on' }).check();
    await page.getByRole('button', { name: 'Save preferences' }).click();
    await page.getByText('Your preferences are saved.').waitFor();
    const subscriber = (await app.ctx.repos.subscribers.findByEmail('hosted@example.com'))!;
    expect(subscriber.pausedIndefinitely).toBe(true);
    expect((await app.ctx.repos.subscriptions.forSubscriber(subscriber.id)).filter((s) => s.status === 'active').map((s) => s.topicSlug)).toEqual(['energy', 'japan', 'nato']);

    await page.getByRole('button', { name: 'Erase my data…' }).click();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Yes, erase my data' }).click();
    await page.getByRole('heading', { name: 'Your data is erased' }).waitFor();
    expect(await app.ctx.repos.subscribers.findByEmail('hosted@example.com')).toBeUndefined();
  });

  it('unsubscribes from the page behind the footer link', async () => {
    const flows = readerFlows(app, smtp);
    const sub = await flows.activeSubscriber('footer@example.com', ['energy', 'japan'], 'instant');
    // A digest first, screenshot for review.
    const admin = await apiClient(app, ['ingest']);
    app.clock.advance(60_000);
    await admin.post('/api/v1/articles', { url: 'https://news.example/e1', title: 'Energy prices ease as storage fills', summary: 'Gas storage is 95% full ahead of winter.', tags: ['energy'] });
    await admin.post('/api/v1/articles', { url: 'https://news.example/j1', title: 'Japan and NATO deepen defence ties', summary: 'Tokyo joins an alliance procurement mechanism.', tags: ['japan'] });
    app.clock.advance(60_000);
    await app.ctx.services.scheduler.run('test');
    const [digest] = await flows.sendQueued();
    expect(digest!.subject).toMatch(/2 new articles/);
    const mailPage = await (await browser.newContext({ viewport: { width: 700, height: 1000 } })).newPage();
    await mailPage.setContent(String(digest!.html));
    await mailPage.screenshot({ path: path.join(ARTIFACTS, 'digest-mail.png'), fullPage: true });

    await page.goto(app.ctx.links.unsubscribeUrl(sub.id, null, app.clock.now()));
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await page.getByRole('heading', { name: 'You are unsubscribed' }).waitFor();
    expect((await app.ctx.repos.subscriptions.forSubscriber(sub.id)).every((s) => s.status === 'unsubscribed')).toBe(true);
  });

  it('sets snooze, quiet hours and the instant cap with the keyboard alone, every control labelled', async () => {
    const flows = readerFlows(app, smtp);
    const sub = await flows.activeSubscriber('attention@example.com', ['japan'], 'instant');
    await page.goto(app.ctx.links.preferencesUrl(sub.id, app.clock.now()));
    expect(await seriousAxeViolations(page)).toEqual([]);
    // Every control has an accessible name a screen reader announces.
    for (const name of ['Not snoozed', 'For 1 day', 'For 7 days', 'For 30 days', 'Until I turn alerts back on', 'No quiet hours (the default)', 'Quiet hours of my own:', 'from', 'to', 'Instant alerts a day, at most']) {
      expect(await page.getByLabel(name, { exact: true }).count(), name).toBe(1);
    }
    // Keyboard: to the 7-day snooze by Tab and arrows, quiet hours of one's own, a cap of 3.
    await page.getByLabel('Not snoozed', { exact: true }).focus();
    await page.keyboard.press('ArrowDown'); // 1 day
    await page.keyboard.press('ArrowDown'); // 7 days
    expect(await page.getByLabel('For 7 days').isChecked()).toBe(true);
    await page.getByLabel('Quiet hours of my own:').focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('quietFrom');
    await page.keyboard.type('21');
    await page.keyboard.press('Tab');
    await page.keyboard.type('06');
    await page.getByLabel('Instant alerts a day, at most').focus();
    await page.keyboard.press('ArrowDown'); // No limit
    await page.keyboard.press('ArrowDown'); // 1
    await page.keyboard.press('ArrowDown'); // 3
    await page.getByRole('button', { name: 'Save preferences' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText('Your preferences are saved.').waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'preferences-attention.png'), fullPage: true });
    const saved = (await app.ctx.repos.subscribers.findById(sub.id))!;
    expect({ quietStart: saved.quietStart, quietEnd: saved.quietEnd, cap: saved.instantDailyCap }).toEqual({ quietStart: 21, quietEnd: 6, cap: 3 });
    expect(saved.pausedUntil!.getTime() - app.clock.now().getTime()).toBeGreaterThan(6.9 * 86_400_000);
    // The page says what is in force now.
    expect(await page.getByRole('status').filter({ hasText: /^Snoozed until \d/ }).count()).toBe(1);
    expect(await page.getByRole('radio', { name: /^Keep snoozed until / }).isChecked()).toBe(true);
  });
});
