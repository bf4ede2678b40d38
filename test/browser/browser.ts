// A real Chromium (Debian's /usr/bin/chromium, never a downloaded one) driven by playwright-core, with
// every browser-console error and page error collected so a test can assert there were none.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { expect } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { ensureConsoleBuilt } from '../../console/build.mjs';
import { CHROMIUM, ensureChromium } from './chromium.mjs';

export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-artifacts', 'screenshots');
export const DESKTOP = { width: 1280, height: 800 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** `console.error` messages and uncaught page errors, in order. */
  readonly errors: string[];
  /** A full-page PNG under test-artifacts/screenshots/. */
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function openBrowser(): Promise<Browser> {
  ensureChromium();
  await ensureConsoleBuilt();
  mkdirSync(SCREENSHOTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'weir-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: DESKTOP,
    timezoneId: 'UTC',
    locale: 'en-US',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const errors: string[] = [];
  context.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()} (${m.location().url})`);
  });
  context.on('weberror', (e) => errors.push(`page error: ${e.error().message}`));
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  return {
    context,
    page,
    errors,
    async screenshot(name) {
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
    },
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Clicks a link of the top navigation (opening the phone menu first when the links are folded away). */
export async function nav(page: Page, label: string): Promise<void> {
  const menu = page.locator('.menu-button');
  if (await menu.isVisible()) await menu.click();
  await page.locator('#nav a', { hasText: label }).click();
}

/** The integer a cell shows ('1,234' → 1234). */
export function int(text: string | null): number {
  return Number((text ?? '').replace(/[^\d.-]/g, ''));
}

/**
 * expect.poll with a deadline fit for a loaded 2-core machine (vitest's default is 1 s): the page polls
 * the server every 2-5 s, so a condition may take a few rounds to show.
 */
export function eventually<T>(fn: () => T | Promise<T>, timeout = 30_000) {
  return expect.poll(fn, { timeout, interval: 200 });
}
