/*
 * chromium.js - what the console's browser tests share: Debian's /usr/bin/chromium through
 * playwright-core with a fresh, empty profile (playwright's persistent context is how
 * --user-data-dir is passed; the flags keep Chromium off the network it cannot reach here), and
 * a page that records page errors and console errors. Owner: the staff-console engineer.
 */
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

// -> {ctx, close()}: close() also removes the profile.
async function launch(extra) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lgw-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, Object.assign({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
  }, extra || {}));
  return {
    ctx,
    async close() {
      await ctx.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Waits are bounds on a failure, not expectations: a page that works answers at once. The pages'
// servers can run under valgrind (LGW_VALGRIND=1, ~20x slower) on a machine other work keeps busy,
// so every bound a test sets goes through wait(ms): x4 under valgrind.
const SCALE = process.env.LGW_VALGRIND === '1' ? 4 : 1;
function wait(ms) { return ms * SCALE; }

// A new page whose errors land in the returned array. 4xx answers a test provokes are logged by
// Chromium as "Failed to load resource": expected. Anything else at error level (a script
// error, a CSP violation "Refused to ...") is an error of the page.
async function watchedPage(ctx) {
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push('console: ' + m.text());
  });
  page.setDefaultTimeout(wait(15000));
  return { page, errors };
}

// The TAP-like checks every test prints: ok(cond, msg, detail) prints "ok - msg" or "FAIL: msg";
// run(body) runs the test's body in a fresh browser, counts a throw as a failure, prints the
// totals and exits 1 on any failure.
function checks() {
  let passed = 0;
  let failed = 0;
  const ok = (cond, msg, detail) => {
    if (cond) { passed += 1; console.log('ok - ' + msg); } else { failed += 1; console.log('FAIL: ' + msg + (detail !== undefined ? ': ' + detail : '')); }
  };
  const run = async (body) => {
    const browser = await launch({});
    try {
      await body(browser.ctx);
    } catch (e) {
      ok(false, 'the run finished', e.stack);
    } finally {
      await browser.close();
    }
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  };
  return { ok, run };
}

// Logs in to the console at url in language lang: -> {page, errors} on the user's home page.
async function consoleLogin(ctx, url, lang, user, password) {
  const { page, errors } = await watchedPage(ctx);
  page.setDefaultTimeout(wait(60000)); // a login (yescrypt) on a saturated machine takes seconds
  await page.goto(url + '/#/login');
  await page.waitForSelector('main[data-page="login"] input[name="user"]');
  await page.selectOption('#lang', lang);
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
  await page.fill('input[name="user"]', user);
  await page.fill('input[name="password"]', password);
  await page.click('main button[type="submit"]');
  await page.waitForSelector('#nav:not([hidden])');
  return { page, errors };
}

module.exports = { launch, watchedPage, checks, consoleLogin, wait };
