import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (.ci/run installs it); browser tests skip with a message without it. */
export const CHROMIUM = '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url));

export function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

let axeSource: string | undefined;

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  targets: unknown[];
}

/**
 * Runs axe-core on the page (through the DevTools protocol, so the page's CSP allows it) and
 * returns the serious and critical violations.
 */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= readFileSync(fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url)), 'utf8');
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: object) => Promise<{ violations: { id: string; impact: string; help: string; nodes: { target: unknown }[] }[] }> } }).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export interface TableOverflow {
  /** The table's caption or the label of its region. */
  table: string;
  /** Width of the box the table sits in (its .table-wrap, else its parent). */
  containerWidth: number;
  /** How far the table or one of its cells reaches past that box's right edge. */
  overhang: number;
  /** Whether the box is a keyboard-reachable scroll region, so the rest can still be reached. */
  scrollable: boolean;
}

/**
 * The tables on the page wider than their box, and how far the page itself is wider than the
 * window. Closed <details> are opened first: their tables have no layout otherwise.
 */
export async function tableOverflows(page: Page): Promise<{ pageOverhang: number; tables: TableOverflow[] }> {
  return page.evaluate(() => {
    for (const d of document.querySelectorAll('details')) d.open = true;
    const tables = [...document.querySelectorAll<HTMLTableElement>('main table')].flatMap((t) => {
      const box = (t.closest('.table-wrap') ?? t.parentElement)!;
      const right = box.getBoundingClientRect().right;
      const reach = Math.max(t.getBoundingClientRect().right, ...[...t.querySelectorAll('th, td')].map((c) => c.getBoundingClientRect().right));
      const overhang = Math.max(box.scrollWidth - box.clientWidth, reach - right);
      if (overhang <= 1) return [];
      const labelledBy = box.getAttribute('aria-labelledby');
      const table = (t.caption?.textContent ?? box.getAttribute('aria-label') ?? (labelledBy && document.getElementById(labelledBy)?.textContent) ?? '?').trim();
      const scrollable = box.matches('.table-wrap[role="region"][tabindex="0"]') && getComputedStyle(box).overflowX === 'auto';
      return [{ table, containerWidth: box.clientWidth, overhang: Math.round(overhang), scrollable }];
    });
    return { pageOverhang: document.documentElement.scrollWidth - document.documentElement.clientWidth, tables };
  });
}

/** tableOverflows() on each of the paths, in the page's current viewport. */
export async function surveyTables(page: Page, baseUrl: string, paths: string[]) {
  const found: ({ path: string } & Awaited<ReturnType<typeof tableOverflows>>)[] = [];
  for (const path of paths) {
    await page.goto(`${baseUrl}${path}`);
    await page.locator('main h1').waitFor();
    found.push({ path, ...(await tableOverflows(page)) });
  }
  return found;
}
