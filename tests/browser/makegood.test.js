/*
 * makegood.test.js - the console's make-good page in headless Chromium (Debian's /usr/bin/chromium
 * through playwright-core). Run by tests/it/test_makegood_browser.sh, which records two failed
 * sessions of a gift day in the store (as the gateways write them) and starts loyalty-admin with
 * the console's files.
 *
 * Care (en, then ar, right to left): the page lists the day's two failed sessions with their
 * cause and the numbers in full; in English care grants a priority pass for next week to both
 * (the script checks the store and the audit), in Arabic the same grant again finds both
 * compensated already. Marketing (en) reads the numbers masked and is offered no grant.
 * Screenshots per language into ARTIFACTS.
 * In English care also releases the points a member has held by the velocity caps (HELD).
 * Env: CONSOLE_URL, ARTIFACTS, LGW_SRC, MKT_PASSWORD, CARE_PASSWORD, DAY (YYYYMMDD), FULL (a
 * listed MSISDN), UNTIL (the pass's last day, YYYY-MM-DD), HELD (a MSISDN with 10 points held).
 * Prints "ok - ..." per check; exits 1 on any failure (a page or console error included).
 */
'use strict';
const { checks, consoleLogin, wait } = require('./chromium.js');
const fs = require('fs');
const path = require('path');

const URL = process.env.CONSOLE_URL;
const ART = process.env.ARTIFACTS;
const SRC = process.env.LGW_SRC;
const DAY = process.env.DAY;
const dict = (lang) => JSON.parse(fs.readFileSync(path.join(SRC, 'admin/web/i18n', lang + '.json'), 'utf8'));
const fill = (s, vars) => s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? vars[k] : m));
const { ok, run } = checks();
const login = (ctx, lang, user, password) => consoleLogin(ctx, URL, lang, user, password);

const cells = (page, col) => page.$$eval('#mg-list tbody tr', (trs, i) => trs.map((tr) => (tr.cells[i] ? tr.cells[i].textContent : '')), col);
// the status line without the bidi isolation marks the console puts around values in Arabic
const status = (page) => page.$eval('#status', (e) => e.textContent.replace(/[\u2068\u2069]/g, ''));

async function care(ctx, lang) {
  const T = dict(lang);
  const { page, errors } = await login(ctx, lang, 'carl', process.env.CARE_PASSWORD);
  ok(await page.isVisible('#nav a[data-page="makegood"]'), `${lang}: the menu offers make-good`);
  await page.goto(URL + '/#/makegood/' + DAY);
  await page.waitForSelector('#mg-list table');
  ok((await page.textContent('main h1')) === T['mg.title'], `${lang}: the page is titled in the language`);
  const members = await cells(page, 1);
  ok(members.length === 2 && members.includes(process.env.FULL), `${lang}: two failed sessions, numbers in full`, members.join(' '));
  const causes = await cells(page, 2);
  ok(causes.includes(T['mg.cause.processing']) && causes.includes(T['mg.cause.unavailable']), `${lang}: the causes in the language`, causes.join(' | '));
  ok((await page.inputValue('#mg-day')) === DAY.slice(0, 4) + '-' + DAY.slice(4, 6) + '-' + DAY.slice(6), `${lang}: the day picker shows the day`);
  await page.fill('#mg-incident', 'store-down');
  await page.check('#mg-kind-pass');
  ok(await page.isDisabled('#mg-points'), `${lang}: a pass has no points`);
  await page.click('#mg-submit');
  const vars = lang === 'en' ? { applied: '2', duplicate: '0', failed: '0' } : { applied: '٠', duplicate: '٢', failed: '٠' };
  const want = fill(T['mg.done.pass'], Object.assign({ until: process.env.UNTIL }, vars));
  try {
    await page.waitForFunction(() => document.getElementById('status').textContent !== '', null, { timeout: wait(30000) });
  } catch (e) { /* reported below */ }
  const got = await status(page);
  const alert = await page.textContent('#alert');
  // Arabic digits depend on the locale's numbering system: accept Latin ones too
  const latin = fill(T['mg.done.pass'], { until: process.env.UNTIL, applied: '0', duplicate: '2', failed: '0' });
  ok(got === want || (lang === 'ar' && got === latin), `${lang}: the grant's result (${lang === 'en' ? 'both granted' : 'both had it already'})`, got + ' / ' + alert);
  if (lang === 'ar') ok((await page.getAttribute('html', 'dir')) === 'rtl', 'ar: the page is right to left');
  if (lang === 'en') await releaseHold(page, T);
  const p = path.join(ART, 'makegood-' + lang + '.png');
  await page.screenshot({ path: p, fullPage: true });
  console.log('# screenshot ' + p);
  ok(errors.length === 0, `${lang}: no page or console error`, errors.join(' | '));
  await page.close();
}

// The subscriber page of HELD (10 points held by the velocity caps): care releases them.
async function releaseHold(page, T) {
  await page.goto(URL + '/#/subscriber');
  await page.fill('input[name="msisdn"]', process.env.HELD);
  await page.press('input[name="msisdn"]', 'Enter');
  await page.waitForSelector('#sub-held');
  ok((await page.textContent('#sub-held')) === '10', 'en: the wallet shows 10 points held', await page.textContent('#sub-held'));
  await page.fill('#hold-reason', 'checked with the customer');
  await page.click('#hold-release');
  await page.waitForFunction(() => !document.getElementById('sub-held'));
  // the page is drawn again first, then the status is said: wait for it (a busy machine is slow)
  await page.waitForFunction(() => document.getElementById('status').textContent !== '', null, { timeout: wait(20000) }).catch(() => {});
  const got = await status(page);
  ok(got === fill(T['hold.done.release'], { points: '10', balance: '110' }), 'en: the held points released', got);
}

async function marketing(ctx) {
  const { page, errors } = await login(ctx, 'en', 'mia', process.env.MKT_PASSWORD);
  await page.goto(URL + '/#/makegood/' + DAY);
  await page.waitForSelector('#mg-list table');
  const members = await cells(page, 1);
  ok(members.length === 2 && members.every((m) => /^\*+\d{4}$/.test(m)), 'marketing: the numbers masked', members.join(' '));
  ok((await page.$('#mg-grant')) === null, 'marketing: no grant form');
  ok(errors.length === 0, 'marketing: no page or console error', errors.join(' | '));
  await page.close();
}

fs.mkdirSync(ART, { recursive: true });
run(async (ctx) => {
  await care(ctx, 'en');
  await care(ctx, 'ar');
  await marketing(ctx);
});
