/*
 * rules.test.js - the console's campaign rules page (issue 10 §1) in headless Chromium (Debian's
 * /usr/bin/chromium, playwright-core), in English, French and Arabic. Run by
 * tests/it/test_console_rules.sh, which stores a campaigns document (welcome and win-back in
 * force, a birthday campaign of the past) and its counters, and starts loyalty-admin.
 *
 * Per language: the page is titled in the language; the table lists the three campaigns with
 * their rule's translated name, state, budget spent and left; the budget chart and the win-back
 * funnel charts are the vendored Chart.js with the figures (targeted 120, came back 30, points
 * spent 1200); the preview note names loyaltyctl; in Arabic the page and charts run right to
 * left. Screenshots go to ARTIFACTS.
 *
 * Env: CONSOLE_URL, ARTIFACTS, LGW_SRC, USER_NAME, USER_PASSWORD.
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
// Arabic-Indic digits to Latin, then digits only: compares amounts across locales.
function digits(s) {
  return String(s).replace(/[\u0660-\u0669]/g, (c) => String(c.charCodeAt(0) - 0x660)).replace(/\D/g, '');
}
async function chartData(page, id) {
  return page.evaluate((cid) => {
    const canvas = document.querySelector(`figure[data-chart="${cid}"] canvas`);
    const c = canvas && window.Chart && window.Chart.getChart(canvas);
    if (!c) return null;
    const horiz = c.options.indexAxis === 'y';
    return {
      labels: c.data.labels.slice(),
      datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data.slice() })),
      catReverse: !!(horiz ? c.scales.y : c.scales.x).options.reverse,
      valReverse: !!(horiz ? c.scales.x : c.scales.y).options.reverse,
    };
  }, id);
}

async function runLang(ctx, lang) {
  const T = dict(lang);
  const { page, errors } = await watchedPage(ctx);
  page.setDefaultTimeout(wait(60000)); // a login (yescrypt) on a saturated machine takes seconds
  await page.goto(URL + '/#/login');
  await page.waitForSelector('main[data-page="login"] input[name="user"]');
  await page.selectOption('#lang', lang);
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
  await page.fill('input[name="user"]', process.env.USER_NAME);
  await page.fill('input[name="password"]', process.env.USER_PASSWORD);
  await page.click('main button[type="submit"]');
  await page.waitForSelector('#nav:not([hidden])');
  ok(await page.isVisible(`#nav a[data-page="rules"]`), `${lang}: the navigation has the page`);
  await page.click('#nav a[data-page="rules"]');
  await page.waitForSelector('#rules-body table');
  ok((await page.textContent('main h1')) === T['rules.title'], `${lang}: the page is titled in the language`);
  const rows = await page.$$eval('#rules-body table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  const row = (id) => rows.find((r) => r[0] === id) || [];
  ok(rows.length === 3, `${lang}: three campaigns`, JSON.stringify(rows));
  ok(row('wb')[1] === T['rules.rule.winback'] && row('bday')[1] === T['rules.rule.birthday'], `${lang}: rules by their translated names`);
  ok(row('welcome')[3] === T['rules.active'] && row('bday')[3] === T['rules.inactive'], `${lang}: in force or not today`);
  ok(digits(row('welcome')[6]) === '350' && digits(row('welcome')[7]) === '650', `${lang}: budget spent 350, left 650`, JSON.stringify(row('welcome')));
  ok(digits(row('bday')[9]) === '2', `${lang}: refusals by the hard stop shown`);
  const funnel = await page.$$eval('#rules-funnel table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  ok(funnel.length === 1 && digits(funnel[0][1]) === '120' && digits(funnel[0][2]) === '30' && digits(funnel[0][4]) === '1200',
    `${lang}: the funnel table (120 targeted, 30 came back, 1200 points)`, JSON.stringify(funnel));
  const fm = await chartData(page, 'rules-funnel-members');
  ok(fm && fm.datasets.length === 2 && fm.datasets[0].data[0] === 120 && fm.datasets[1].data[0] === 30 &&
     fm.datasets[0].label === T['rules.col.targeted'] && fm.datasets[1].label === T['rules.col.back'],
    `${lang}: the funnel chart (Chart.js) targeted / came back`, JSON.stringify(fm));
  const fp = await chartData(page, 'rules-funnel-points');
  ok(fp && fp.datasets[0].data[0] === 1200, `${lang}: the points-spent chart`, JSON.stringify(fp));
  const bc = await chartData(page, 'rules-budget');
  ok(bc && bc.labels.length === 3 && bc.datasets[0].data[bc.labels.indexOf('welcome')] === 350, `${lang}: the budget chart`, JSON.stringify(bc));
  ok((await page.textContent('#rules-preview pre')).includes('loyaltyctl campaign-rules'), `${lang}: the preview names loyaltyctl`);
  if (lang === 'ar') {
    ok((await page.getAttribute('html', 'dir')) === 'rtl', 'ar: the page is right to left');
    ok(fm && fm.catReverse, 'ar: the funnel chart runs from the right');
  }
  const p = path.join(ART, 'rules-' + lang + '.png');
  await page.screenshot({ path: p, fullPage: true });
  console.log('# screenshot ' + p);
  ok(errors.length === 0, `${lang}: no page or console error`, errors.join(' | '));
  await page.close();
}

async function main() {
  fs.mkdirSync(ART, { recursive: true });
  const browser = await launch({});
  try {
    for (const lang of ['en', 'fr', 'ar']) await runLang(browser.ctx, lang);
  } catch (e) {
    ok(false, 'the run finished', e.stack);
  } finally {
    await browser.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
main();
