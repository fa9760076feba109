/*
 * draws.test.js - the console's draw page in headless Chromium (Debian's /usr/bin/chromium
 * through playwright-core). Run by tests/it/test_draw_browser.sh, which writes one published
 * draw of DATA_1GB into the store (three offers: claimed, expired and rolled down, pending with
 * its SMS queued) and starts loyalty-admin with the console's files.
 *
 * Marketing (en, fr, ar): the menu offers the page; the draw items come from the catalogue; the
 * summary shows the registrations, the seed and the digest, the re-run command; the offers in
 * draw order with their state in the language and the numbers masked; Arabic is right to left
 * with the seed and the command left to right. The auditor (en): the numbers whole, no control
 * that changes anything; another day shows "not drawn yet". Screenshots per language into
 * ARTIFACTS. Env: CONSOLE_URL, ARTIFACTS, LGW_SRC, MKT_PASSWORD, AUD_PASSWORD, FULL (the whole
 * MSISDN of the pending offer), SEED, DIGEST, DAY, NEXT_DAY (a day with no draw).
 * Prints "ok - ..." per check; exits 1 on any failure (a page or console error included).
 */
'use strict';
const { checks, consoleLogin } = require('./chromium.js');
const fs = require('fs');
const path = require('path');

const URL = process.env.CONSOLE_URL;
const ART = process.env.ARTIFACTS;
const SRC = process.env.LGW_SRC;
const { SEED, DIGEST, DAY, FULL } = process.env;
const dict = (lang) => JSON.parse(fs.readFileSync(path.join(SRC, 'admin/web/i18n', lang + '.json'), 'utf8'));
const { ok, run } = checks();
const login = (ctx, lang, user, password) => consoleLogin(ctx, URL, lang, user, password);

const offerCells = (page, col) => page.$$eval('#draw-out table', (tables, i) => {
  const t = tables[tables.length - 1];
  return Array.from(t.tBodies[0].rows, (tr) => (tr.cells[i] ? tr.cells[i].textContent : ''));
}, col);

async function marketing(ctx, lang) {
  const T = dict(lang);
  const { page, errors } = await login(ctx, lang, 'mia', process.env.MKT_PASSWORD);
  ok(await page.isVisible('#nav a[data-page="draws"]'), `${lang}: the menu offers the draw page`);
  ok((await page.textContent('#nav a[data-page="draws"]')) === T['nav.draws'], `${lang}: the menu entry in the language`);
  await page.click('#nav a[data-page="draws"]');
  await page.waitForSelector('#draw-rerun code');
  ok((await page.textContent('main h1')) === T['draws.title'], `${lang}: the page is titled in the language`);
  ok((await page.inputValue('#draw-item')) === 'DATA_1GB', `${lang}: the item opened by draw is chosen from the catalogue`);
  const summary = await page.textContent('#draw-out table');
  ok(summary.includes(SEED) && summary.includes(DIGEST), `${lang}: the seed and the digest are shown`);
  ok(summary.includes(T['draws.k.registrations']) && summary.includes(T['draws.k.reached']), `${lang}: the summary is labelled in the language`);
  const cmd = await page.textContent('#draw-rerun code');
  ok(cmd === `loyaltyctl draw DATA_1GB ${DAY} ${SEED} 2`, `${lang}: the command that re-runs the draw`, cmd);
  const states = await offerCells(page, 2);
  const want = ['claimed', 'expired', 'pending'].map((s) => T['draws.state.' + s]);
  ok(JSON.stringify(states) === JSON.stringify(want), `${lang}: the offers in draw order with their state`, states.join(' | '));
  const members = await offerCells(page, 1);
  ok(members.length === 3 && members.every((m) => /^\*+\d{4}$/.test(m)), `${lang}: the numbers masked`, members.join(' '));
  const sms = await offerCells(page, 4);
  ok(sms[2] === T['draws.sms.queued'] && sms[0] === T['draws.sms.done'], `${lang}: the pending winner's SMS waits in the outbox`, sms.join(' | '));
  if (lang === 'ar') {
    ok((await page.getAttribute('html', 'dir')) === 'rtl', 'ar: the page is right to left');
    ok((await page.getAttribute('#draw-rerun pre', 'dir')) === 'ltr', 'ar: the command stays left to right');
    ok((await page.$eval('.draw-seed', (e) => getComputedStyle(e).direction)) === 'ltr', 'ar: the seed stays left to right');
  }
  const p = path.join(ART, 'draws-' + lang + '.png');
  await page.screenshot({ path: p, fullPage: true });
  console.log('# screenshot ' + p);
  ok(errors.length === 0, `${lang}: no page or console error`, errors.join(' | '));
  await page.close();
}

async function auditor(ctx) {
  const T = dict('en');
  const { page, errors } = await login(ctx, 'en', 'aude', process.env.AUD_PASSWORD);
  await page.goto(URL + '/#/draws/DATA_1GB');
  await page.waitForSelector('#draw-rerun code');
  const members = await offerCells(page, 1);
  ok(members[2] === FULL, 'auditor: the numbers whole', members.join(' '));
  const controls = await page.$$eval('#draw-out button:not([data-csv]), #draw-out input', (els) => els.length);
  ok(controls === 0, 'auditor: read only (nothing in the draw to change)', controls);
  // another day (the day after): registrations counted, not drawn yet
  const next = process.env.NEXT_DAY;
  await page.fill('#draw-day', next);
  await page.click('#draw-form button[type="submit"]');
  await page.waitForSelector('#draw-pending');
  ok((await page.textContent('#draw-pending')) === T['draws.notdrawn'], 'auditor: another day is not drawn yet');
  await page.fill('#draw-day', '12345');
  await page.click('#draw-form button[type="submit"]');
  ok(await page.$eval('#draw-day', (e) => !e.checkValidity()), 'auditor: a malformed day is refused by the form');
  ok(errors.length === 0, 'auditor: no page or console error', errors.join(' | '));
  await page.close();
}

fs.mkdirSync(ART, { recursive: true });
run(async (ctx) => {
  for (const lang of ['en', 'fr', 'ar']) await marketing(ctx, lang);
  await auditor(ctx);
});
