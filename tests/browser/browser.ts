import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium, headless, driven by playwright-core (never a downloaded browser). */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/**
 * Screenshots go to docs/screenshots/ when SHOUWANG_SCREENSHOTS=1 (to refresh the README's pictures),
 * else to a temp folder: a normal test run does not touch tracked files.
 */
const DIR = process.env.SHOUWANG_SCREENSHOTS === '1' ? resolve(import.meta.dirname, '../../docs/screenshots') : join(tmpdir(), 'shouwang-screenshots');
mkdirSync(DIR, { recursive: true });

export async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  // A sticky header would be painted in the middle of a full-page picture.
  const style = fullPage ? await page.addStyleTag({ content: 'header.top { position: static !important; }' }) : null;
  await page.screenshot({ path: join(DIR, `${name}.jpg`), type: 'jpeg', quality: 70, fullPage, animations: 'disabled' });
  await style?.evaluate((el) => el.remove());
}

/** Errors the page threw: a test fails on any. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of (401|403|404|409|423)/.test(m.text())) errors.push(m.text());
  });
  return errors;
}

/** An estate plan drawn as SVG and rasterised to PNG by the browser itself (for the site-plan upload). */
export async function planPng(browser: Browser): Promise<Buffer> {
  const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
  const b = (x: number, y: number, n: string) =>
    `<rect x="${x}" y="${y}" width="110" height="70" fill="#dfe7f2" stroke="#8795a8"/><text x="${x + 55}" y="${y + 42}" text-anchor="middle" font-size="18" fill="#334">${n}</text>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="900" height="600" viewBox="0 0 900 600">
    <rect width="900" height="600" fill="#f3f1ea"/>
    <rect x="30" y="30" width="840" height="540" fill="none" stroke="#6b7280" stroke-width="6" stroke-dasharray="14 6"/>
    <rect x="30" y="280" width="840" height="40" fill="#d9d6cc"/><rect x="430" y="30" width="40" height="540" fill="#d9d6cc"/>
    ${b(90, 80, '1栋')}${b(260, 80, '2栋')}${b(540, 80, '3栋')}${b(710, 80, '4栋')}
    ${b(90, 440, '5栋')}${b(260, 440, '6栋')}${b(540, 440, '7栋')}${b(710, 440, '8栋')}
    <circle cx="450" cy="210" r="40" fill="#cfe8cf" stroke="#7aa57a"/><text x="450" y="216" text-anchor="middle" font-size="15">中心广场</text>
    <rect x="420" y="18" width="60" height="24" fill="#fff" stroke="#333"/><text x="450" y="35" text-anchor="middle" font-size="14">北门</text>
    <rect x="420" y="558" width="60" height="24" fill="#fff" stroke="#333"/><text x="450" y="575" text-anchor="middle" font-size="14">南门</text>
    <rect x="120" y="200" width="90" height="50" fill="#e8e2f2" stroke="#8a7fa8"/><text x="165" y="230" text-anchor="middle" font-size="13">游乐区</text>
    <rect x="690" y="200" width="110" height="50" fill="#e5e5e5" stroke="#888"/><text x="745" y="230" text-anchor="middle" font-size="13">车库入口</text>
  </svg>`;
  await page.setContent(`<html><body style="margin:0">${svg}</body></html>`);
  const png = await page.screenshot({ type: 'png', clip: { x: 0, y: 0, width: 900, height: 600 } });
  await page.close();
  return png;
}
