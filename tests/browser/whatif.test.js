/*
 * whatif.test.js - the loyalty page's "What-if before publishing" in headless Chromium (Debian's
 * /usr/bin/chromium through playwright-core). Run by tests/it/test_whatif_browser.sh, which pushes
 * events through the gateway (journaled) and starts loyalty-admin with the console's files.
 *
 * Per language (en, fr, ar): marketing opens the loyalty table, doubles the TOPUP rate in the
 * editor (not saved), runs the what-if, watches the progress bar reach 100 and reads the side by
 * side table: points issued in force = BASE_ISSUED (the script's own figure from the wallets),
 * the draft's larger, the ten changes with masked numbers; the page is right to left in Arabic.
 * Then the catalogue page: every draft price doubled, the what-if shows the same redemptions'
 * cost CAT_SPENT -> CAT_COST and CAT_REFUSED refused.
 * Env: CONSOLE_URL, ARTIFACTS, LGW_SRC, USER_NAME, USER_PASSWORD, BASE_ISSUED, CAT_SPENT,
 * CAT_COST, CAT_REFUSED.
 * Prints "ok - ..." per check; exits 1 on any failure (a page or console error included).
 */
'use strict';
const { launch, watchedPage, wait } = require('./chromium.js');
const fs = require('fs');
const path = require('path');

const URL = process.env.CONSOLE_URL;
const ART = process.env.ARTIFACTS;
const SRC = process.env.LGW_SRC;
const BASE_ISSUED = String(process.env.BASE_ISSUED || '');
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
  await page.goto(URL + '/#/loyalty');
  await page.waitForSelector('#whatif-form');
  ok((await page.textContent('#whatif-form h2')) === T['whatif.title'], `${lang}: the what-if section is titled in the language`);
  // the draft: the table in the editor with the TOPUP rate doubled (not saved)
  await page.evaluate(() => {
    const ta = document.getElementById('loyalty-doc');
    const doc = JSON.parse(ta.value);
    doc.rates.TOPUP.points *= 2;
    ta.value = JSON.stringify(doc, null, 2);
  });
  await page.fill('#whatif-days', '6');
  await page.click('#whatif-run');
  await page.waitForSelector('#whatif-progress:not([hidden])');
  ok(true, `${lang}: the progress bar shows`);
  await page.waitForFunction(() => document.querySelector('#whatif-result table'), null, { timeout: wait(120000) });
  ok(Number(await page.getAttribute('#whatif-progress', 'value')) === 100 ||
     (await page.evaluate(() => document.getElementById('whatif-progress').value)) === 100, `${lang}: the bar reached 100`);
  const rows = await page.$$eval('#whatif-result table:first-of-type tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  const issued = rows.find((r) => r[0] === T['whatif.row.issued']);
  ok(issued && digits(issued[1]) === BASE_ISSUED, `${lang}: points issued in force = the wallets' ${BASE_ISSUED}`, JSON.stringify(issued));
  ok(issued && Number(digits(issued[2])) > Number(digits(issued[1])), `${lang}: the draft issues more`, JSON.stringify(issued));
  ok(rows.some((r) => r[0].startsWith(T['whatif.members'].split('{')[0])), `${lang}: members per tier listed`);
  const top = await page.$$eval('#whatif-result .table-wrap:nth-of-type(2) tbody tr', (trs) => trs.map((tr) => tr.cells[0].textContent));
  ok(top.length === 10 && top.every((m) => /^\*+\d{4}$/.test(m)), `${lang}: ten changes, numbers masked`, top.join(' '));
  if (lang === 'ar') ok((await page.getAttribute('html', 'dir')) === 'rtl', 'ar: the page is right to left');
  const p = path.join(ART, 'whatif-' + lang + '.png');
  await page.screenshot({ path: p, fullPage: true });
  console.log('# screenshot ' + p);

  // the catalogue page: a draft with every price doubled
  await page.goto(URL + '/#/catalog');
  await page.waitForSelector('#whatif-form [data-draft-price]');
  await page.$$eval('#whatif-form [data-draft-price]', (inputs) => inputs.forEach((i) => { i.value = String(Number(i.value) * 2); }));
  await page.fill('#whatif-days', '2');
  await page.click('#whatif-run');
  await page.waitForFunction(() => document.querySelector('#whatif-result table'), null, { timeout: wait(120000) });
  const crows = await page.$$eval('#whatif-result table:first-of-type tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  const cost = crows.find((r) => r[0] === T['whatif.cat.cost']);
  ok(cost && digits(cost[1]) === process.env.CAT_SPENT && digits(cost[2]) === process.env.CAT_COST,
    `${lang}: prices x2 - the same redemptions cost ${process.env.CAT_SPENT} -> ${process.env.CAT_COST}`, JSON.stringify(cost));
  const refused = crows.find((r) => r[0] === T['whatif.cat.refused']);
  ok(refused && digits(refused[2]) === process.env.CAT_REFUSED, `${lang}: ${process.env.CAT_REFUSED} refused for the balance`, JSON.stringify(refused));
  const items = await page.$$eval('#whatif-result .table-wrap:nth-of-type(2) tbody tr', (trs) => trs.map((tr) => tr.cells[0].textContent));
  ok(items.includes('DATA_1GB'), `${lang}: per item`, items.join(' '));
  const spendTop = await page.$$eval('#whatif-result table', (ts, cap) => {
    const tb = ts.find((x) => x.caption && x.caption.textContent === cap);
    return tb ? [...tb.tBodies[0].rows].map((tr) => [...tr.cells].map((c) => c.textContent)) : null;
  }, T['whatif.cat.top']);
  // the member of 600 is refused at 1000 (500 -> 0), the member of 1500 pays it (500 -> 1000)
  ok(spendTop && spendTop.length === 2 && spendTop.every((r) => /^\*+\d{4}$/.test(r[0])) &&
    spendTop.map((r) => digits(r[1]) + '>' + digits(r[2])).join(' ') === '500>0 500>1000',
  `${lang}: the members whose spending changes most, numbers masked`, JSON.stringify(spendTop));
  const pc = path.join(ART, 'whatif-catalog-' + lang + '.png');
  await page.screenshot({ path: pc, fullPage: true });
  console.log('# screenshot ' + pc);

  // the campaign rules: the stored document, its version, the campaigns in the viewer's language
  await page.click('#nav a[data-page="rules"]');
  await page.waitForSelector('#rules-doc');
  ok((await page.textContent('h1')) === T['rules.title'], `${lang}: the campaign rules page is titled in the language`);
  ok(digits(await page.textContent('#rules-version')).startsWith(process.env.RULES_VERSION), `${lang}: it shows the version in force`,
    await page.textContent('#rules-version'));
  const rrow = await page.$$eval('main table tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent))[0]);
  ok(rrow && rrow[0] === 'welcome' && rrow[1] === T['rules.rule.welcome'] && rrow[4].includes(T['tier.gold']),
    `${lang}: the welcome campaign, its rule and gold's variant named in the language`, JSON.stringify(rrow));
  // its what-if: the draft in the editor doubles the welcome bonus and its gold variant
  await page.evaluate(() => {
    const ta = document.getElementById('rules-doc');
    const doc = JSON.parse(ta.value);
    doc.campaigns[0].points *= 2;
    doc.campaigns[0].tiers.gold *= 2;
    ta.value = JSON.stringify(doc, null, 2);
  });
  await page.fill('#whatif-days', '3');
  await page.click('#whatif-run');
  await page.waitForFunction(() => document.querySelector('#whatif-result table'), null, { timeout: wait(120000) });
  const brows = await page.$$eval('#whatif-result table:first-of-type tbody tr', (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
  const bonus = brows.find((r) => r[0] === T['whatif.camp.issued']);
  ok(bonus && digits(bonus[1]) === process.env.BASE_BONUS && Number(digits(bonus[2])) === 2 * Number(process.env.BASE_BONUS),
    `${lang}: the welcome bonus doubled pays exactly twice (${process.env.BASE_BONUS})`, JSON.stringify(bonus));
  const liab = brows.find((r) => r[0] === T['whatif.camp.liability']);
  ok(liab && digits(liab[1]) === process.env.BASE_BONUS && Number(digits(liab[2])) === 2 * Number(process.env.BASE_BONUS),
    `${lang}: the bonuses' liability side by side`, JSON.stringify(liab));
  // members per tier and the top-20 % share with each side's bonuses (ctl_whatif_camp_spread)
  ok(brows.some((r) => r[0] === T['whatif.row.top20'] && /\d/.test(r[1]) && /\d/.test(r[2])),
    `${lang}: the campaigns' top-20 % share side by side`, JSON.stringify(brows.map((r) => r[0])));
  ok(brows.some((r) => r[0].startsWith(T['whatif.members'].split('{')[0])), `${lang}: the campaigns' members per tier listed`);
  ok((await page.textContent('#whatif-result')).includes(T['whatif.camp.spread'].split('{')[0]),
    `${lang}: the note states the model (as happened plus each side's bonuses)`);
  const ctop = await page.$$eval('#whatif-result table', (ts, cap) => {
    const tb = ts.find((x) => x.caption && x.caption.textContent === cap);
    return tb ? [...tb.tBodies[0].rows].map((tr) => [...tr.cells].map((c) => c.textContent)) : null;
  }, T['whatif.camp.top']);
  ok(ctop && ctop.length === 10 && ctop.every((r) => /^\*+\d{4}$/.test(r[0]) && Number(digits(r[2])) === 2 * Number(digits(r[1]))),
    `${lang}: the ten members whose bonus changes most, numbers masked, each bonus doubled`, JSON.stringify(ctop && ctop.slice(0, 2)));
  const pr = path.join(ART, 'whatif-rules-' + lang + '.png');
  await page.screenshot({ path: pr, fullPage: true });
  console.log('# screenshot ' + pr);
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
