/*
 * suggest.test.js - the console's suggestion box page in headless Chromium (Debian's
 * /usr/bin/chromium through playwright-core). Run by tests/it/test_suggest_browser.sh, which
 * writes three ideas/ratings of two weeks into the store and starts loyalty-admin with the
 * console's files.
 *
 * Marketing (en, fr, ar): the page lists the three entries newest first with the members'
 * numbers masked, the weekly charts and their table; a rating filter keeps one; in English the
 * first idea is tagged and marked handled (the script checks the store and the audit); Arabic is
 * right to left. Care reads the numbers in full. Screenshots per language into ARTIFACTS.
 * Env: CONSOLE_URL, ARTIFACTS, LGW_SRC, MKT_PASSWORD, CARE_PASSWORD, FULL (a full MSISDN).
 * Prints "ok - ..." per check; exits 1 on any failure (a page or console error included).
 */
'use strict';
const { launch, watchedPage, wait } = require('./chromium.js');
const fs = require('fs');
const path = require('path');

const URL = process.env.CONSOLE_URL;
const ART = process.env.ARTIFACTS;
const SRC = process.env.LGW_SRC;
const dict = (lang) => JSON.parse(fs.readFileSync(path.join(SRC, 'admin/web/i18n', lang + '.json'), 'utf8'));
let passed = 0;
let failed = 0;

function ok(cond, msg, detail) {
  if (cond) { passed += 1; console.log('ok - ' + msg); } else { failed += 1; console.log('FAIL: ' + msg + (detail !== undefined ? ': ' + detail : '')); }
}

async function login(ctx, lang, user, password) {
  const { page, errors } = await watchedPage(ctx);
  page.setDefaultTimeout(wait(60000)); // a login (yescrypt) on a saturated machine takes seconds
  await page.goto(URL + '/#/login');
  await page.waitForSelector('main[data-page="login"] input[name="user"]');
  await page.selectOption('#lang', lang);
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
  await page.fill('input[name="user"]', user);
  await page.fill('input[name="password"]', password);
  await page.click('main button[type="submit"]');
  await page.waitForSelector('#nav:not([hidden])');
  return { page, errors };
}

const cells = (page, col) => page.$$eval('#suggest-list tbody tr', (trs, i) => trs.map((tr) => (tr.cells[i] ? tr.cells[i].textContent : '')), col);

async function marketing(ctx, lang) {
  const T = dict(lang);
  const { page, errors } = await login(ctx, lang, 'mia', process.env.MKT_PASSWORD);
  ok(await page.isVisible(`#nav a[data-page="suggestions"]`), `${lang}: the menu offers the suggestion box`);
  await page.click('#nav a[data-page="suggestions"]');
  await page.waitForSelector('#suggest-list table');
  ok((await page.textContent('main h1')) === T['suggest.title'], `${lang}: the page is titled in the language`);
  const members = await cells(page, 1);
  ok(members.length === 3 && members.every((m) => /^\*+\d{4}$/.test(m)), `${lang}: three entries, numbers masked`, members.join(' '));
  const texts = await cells(page, 5);
  ok(texts[0] === 'plus de data le week-end' && texts[2] === 'هدايا أكثر', `${lang}: newest first, the texts as sent`, texts.join(' | '));
  ok(await page.isVisible('figure[data-chart="suggest-weeks"] canvas'), `${lang}: the weekly chart is drawn`);
  ok(await page.isVisible('figure[data-chart="suggest-rating"] canvas'), `${lang}: the average rating chart is drawn`);
  const weekRows = await page.$$eval('#suggest-weeks tbody tr', (trs) => trs.length);
  ok(weekRows === 2, `${lang}: two weeks in the table`, weekRows);
  await page.selectOption('#suggest-rating', '4');
  await page.click('#suggest-filters button[type="submit"]');
  await page.waitForFunction(() => document.querySelectorAll('#suggest-list tbody tr').length === 1);
  ok((await cells(page, 4))[0].includes('4'), `${lang}: the rating filter keeps the one rated 4`);
  await page.selectOption('#suggest-rating', '');
  await page.click('#suggest-filters button[type="submit"]');
  await page.waitForFunction(() => document.querySelectorAll('#suggest-list tbody tr').length === 3);
  if (lang === 'en') {
    const mark = page.locator('#suggest-list tbody tr').nth(0).locator('.suggest-mark');
    await mark.locator('input[name="tag"]').fill('network');
    await mark.locator('input[name="handled"]').check();
    await mark.locator('button').click();
    await page.waitForFunction((s) => document.getElementById('status').textContent === s, T['suggest.saved']);
    await page.waitForFunction(() => {
      const i = document.querySelector('#suggest-list tbody tr .suggest-mark input[name="handled"]');
      return i && i.checked;
    });
    ok(true, 'en: the first idea is tagged and handled');
  }
  if (lang === 'ar') ok((await page.getAttribute('html', 'dir')) === 'rtl', 'ar: the page is right to left');
  const p = path.join(ART, 'suggestions-' + lang + '.png');
  await page.screenshot({ path: p, fullPage: true });
  console.log('# screenshot ' + p);
  ok(errors.length === 0, `${lang}: no page or console error`, errors.join(' | '));
  await page.close();
}

async function care(ctx) {
  const { page, errors } = await login(ctx, 'en', 'carl', process.env.CARE_PASSWORD);
  await page.goto(URL + '/#/suggestions');
  await page.waitForSelector('#suggest-list table');
  const members = await cells(page, 1);
  ok(members.includes(process.env.FULL), 'care: the numbers in full', members.join(' '));
  ok(errors.length === 0, 'care: no page or console error', errors.join(' | '));
  await page.close();
}

async function main() {
  fs.mkdirSync(ART, { recursive: true });
  const browser = await launch({});
  try {
    for (const lang of ['en', 'fr', 'ar']) await marketing(browser.ctx, lang);
    await care(browser.ctx);
  } catch (e) {
    ok(false, 'the run finished', e.stack);
  } finally {
    await browser.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
main();
