/*
 * console.test.js - the staff console in headless Chromium (Debian's /usr/bin/chromium, driven by
 * playwright-core; no browser download). Run by tests/it/test_console_browser.sh, which starts a
 * real redis-server, the SMSC simulator and the gateway (a sample day), and loyalty-admin with the
 * console's files. Owner: the staff-console engineer.
 *
 * Env: CONSOLE_URL (http://127.0.0.1:PORT), ARTIFACTS (directory for the screenshots), MSISDN
 * (a subscriber with points), USERS (JSON {marketing: [user, password], care: [...], auditor: [...]}).
 * Prints "ok - ..." per check, "N passed, N failed" at the end; exits 1 on any failure.
 * A page error or a console error (a CSP violation among them) fails the run.
 */
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const URL = process.env.CONSOLE_URL;
const ART = process.env.ARTIFACTS;
const MSISDN = process.env.MSISDN;
const USERS = JSON.parse(process.env.USERS || '{}');
let passed = 0;
let failed = 0;

function ok(cond, msg, detail) {
  if (cond) { passed += 1; console.log('ok - ' + msg); } else { failed += 1; console.log('FAIL: ' + msg + (detail !== undefined ? ': ' + detail : '')); }
}

function isoDay(d) {
  const p = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate());
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(ART, name + '.png'), fullPage: true });
}

// Logs in with the keyboard only: Tab between fields, Enter submits.
async function login(page, role) {
  const [user, password] = USERS[role];
  await page.goto(URL + '/#/login');
  await page.waitForSelector('main[data-page="login"] input[name="user"]');
  await page.focus('input[name="user"]');
  await page.keyboard.type(user);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.waitForSelector('#nav:not([hidden])');
}

async function logout(page) {
  await page.click('#logout');
  await page.waitForSelector('main[data-page="login"]');
}

async function api(page, method, p) {
  return page.evaluate(async ([m, u]) => {
    const r = await fetch(u, { method: m, headers: { Authorization: 'Bearer ' + sessionStorage.getItem('lgw.token') } });
    return { status: r.status, body: await r.json() };
  }, [method, p]);
}

async function main() {
  fs.mkdirSync(ART, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lgw-chromium-'));
  // A fresh, empty profile per run (playwright's persistent context is how --user-data-dir is
  // passed); the flags keep Chromium off the network it cannot reach here.
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    locale: 'en-GB',
    acceptDownloads: true,
  });
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push('pageerror: ' + e.message));
  // 4xx answers the test provokes (a wrong password, no calendar yet) are logged by Chromium as
  // "Failed to load resource": expected. Anything else at error level (a script error, a CSP
  // violation "Refused to ...") fails the run.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push('console: ' + m.text());
  });
  page.setDefaultTimeout(15000);

  try {
    // ---------------------------------------------------------------- login (marketing)
    await page.goto(URL + '/');
    await page.waitForSelector('main[data-page="login"] h1');
    ok(await page.isVisible('label[for]'), 'the login page has labelled fields');
    await shot(page, '01-login');
    await page.fill('input[name="user"]', USERS.marketing[0]);
    await page.fill('input[name="password"]', 'wrong-password-here');
    await page.click('main button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('alert').textContent.length > 0);
    ok((await page.textContent('#alert')).includes('Wrong user name or password'), 'a wrong password is refused with a message');
    await login(page, 'marketing');
    ok((await page.getAttribute('main', 'data-page')) === 'giftdays', 'marketing lands on the gift-day calendar');
    const navPages = await page.$$eval('#nav a', (as) => as.map((a) => a.getAttribute('data-page')));
    ok(!navPages.includes('subscriber') && navPages.includes('reports'), 'marketing sees no subscriber page', navPages.join(','));

    // ---------------------------------------------------------------- gift days: schedule a special day
    const special = new Date(Date.now() + 3 * 86400 * 1000);
    const sday = isoDay(special);
    await page.click('#add-special');
    const row = page.locator('.special-row').last();
    await row.locator('input[name="special-name"]').fill('web-launch');
    await row.locator('input[name="special-start"]').fill(sday + 'T18:00');
    await row.locator('input[name="special-end"]').fill(sday + 'T21:30');
    await page.click('#save-giftdays');
    await page.waitForFunction(() => /version 1/.test(document.getElementById('status').textContent));
    ok(true, 'the calendar with a special day is saved (version 1)');
    await page.waitForSelector('#preview table');
    const preview = await page.textContent('#preview table');
    ok(preview.includes('web-launch') && preview.includes(sday), 'the preview lists the special day among the next 8 openings', preview.slice(0, 300));
    const nrows = await page.$$eval('#preview tbody tr', (r) => r.length);
    ok(nrows === 8, 'the preview shows 8 openings', nrows);
    const cal = await api(page, 'GET', '/api/giftdays');
    ok(cal.body.document.special.some((s) => s.name === 'web-launch' && s.start.startsWith(sday + 'T18:00')), 'the special day is in the stored calendar');
    await shot(page, '02-giftdays');

    // ---------------------------------------------------------------- catalogue: add an item
    await page.click('#nav a[data-page="catalog"]');
    await page.waitForSelector('#item-form');
    const f = (n, v) => page.fill(`#item-form [name="${n}"]`, v);
    await f('id', 'WEB_2GB');
    await page.selectOption('#item-form [name="category"]', 'data');
    await f('price', '750');
    await f('tier', 'standard');
    await f('stock', '25');
    await f('limit', '1');
    await f('valid_to', '2030-12-31');
    await f('name_ar', '2 جيغا إنترنت');
    await f('name_fr', '2 Go Internet');
    await f('name_en', '2 GB data');
    await f('name_fa', '۲ گیگابایت اینترنت');
    await f('desc_ar', '2 جيغا صالحة 7 أيام');
    await f('desc_fr', '2 Go valables 7 jours');
    await f('desc_en', '2 GB valid for 7 days');
    await f('desc_fa', '۲ گیگابایت با اعتبار ۷ روز');
    await f('quantity', '2048');
    await f('unit', 'MB');
    await page.click('#add-item');
    await page.waitForFunction(() => /WEB_2GB added/.test(document.getElementById('status').textContent));
    ok(true, 'the new item is added');
    await page.waitForSelector('[data-stock="WEB_2GB"]');
    let catDoc = (await api(page, 'GET', '/api/catalog')).body.document;
    let item = catDoc.items.find((x) => x.id === 'WEB_2GB');
    ok(item && item.stock_per_day === 25 && item.price === 750, 'the stored catalogue has the item with its stock', JSON.stringify(item));
    await page.fill('[data-stock="WEB_2GB"]', '40');
    await page.click('[data-save="WEB_2GB"]');
    await page.waitForFunction(() => /WEB_2GB saved/.test(document.getElementById('status').textContent));
    catDoc = (await api(page, 'GET', '/api/catalog')).body.document;
    item = catDoc.items.find((x) => x.id === 'WEB_2GB');
    ok(item.stock_per_day === 40, 'the stock is changed from the table', item.stock_per_day);
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('button[data-csv="catalogue.csv"]')]);
    const csv = fs.readFileSync(await dl.path(), 'utf8');
    ok(csv.split('\r\n')[0].startsWith('"id","name"') && csv.includes('"WEB_2GB"'), 'the catalogue table exports as CSV', csv.slice(0, 120));
    fs.writeFileSync(path.join(ART, 'catalogue.csv'), csv);
    await shot(page, '03-catalog');

    // ---------------------------------------------------------------- live board, reports, dead letters
    await page.click('#nav a[data-page="board"]');
    await page.waitForSelector('#board-body table');
    const board = await page.textContent('#board-body');
    ok(board.includes('WEB_2GB'), 'the live board lists the new item');
    const first = await page.textContent('#board-updated');
    await page.waitForFunction((t) => document.getElementById('board-updated').textContent !== t, first, { timeout: 20000 });
    ok(true, 'the board refreshes by itself');
    await shot(page, '04-board');
    await page.click('#nav a[data-page="reports"]');
    await page.waitForSelector('#rep-wallets');
    await page.waitForFunction(() => /Done/.test(document.getElementById('reports-progress').textContent));
    ok(Number((await page.textContent('#rep-wallets')).replace(/\D/g, '')) > 0, 'the reports count the wallets');
    ok((await page.$$('#reports-body svg.chart')).length >= 1, 'the reports draw the points-per-day chart');
    await shot(page, '05-reports');
    await page.click('#nav a[data-page="deadletters"]');
    await page.waitForSelector('main[data-page="deadletters"] table tbody tr');
    const dlq = await page.$$eval('main[data-page="deadletters"] tbody tr', (r) => r.length);
    ok(dlq >= 1, 'the dead letters are listed', dlq);
    await shot(page, '06-deadletters');
    await logout(page);

    // ---------------------------------------------------------------- care: subscriber page, adjust
    await login(page, 'care');
    ok((await page.getAttribute('main', 'data-page')) === 'subscriber', 'care lands on the subscriber page');
    await page.fill('input[name="msisdn"]', MSISDN);
    await page.press('input[name="msisdn"]', 'Enter');
    await page.waitForSelector('#sub-balance');
    const before = Number((await page.textContent('#sub-balance')).replace(/\D/g, ''));
    ok(before === 18, 'the subscriber page shows the balance', before);
    ok((await page.textContent('main')).includes('TOPUP'), 'the history shows each credit with its kind');
    await page.fill('#adjust-form [name="points"]', '25');
    await page.click('#adjust-form button[type="submit"]');
    await page.waitForFunction(() => document.getElementById('alert').textContent.length > 0);
    ok((await page.textContent('#alert')).length > 0, 'an adjustment without a reason is refused in the page');
    await page.fill('#adjust-form [name="reason"]', 'goodwill: web console test');
    await page.click('#adjust-form button[type="submit"]');
    await page.waitForFunction(() => /balance is now/.test(document.getElementById('status').textContent));
    await page.waitForSelector('#sub-balance');
    const after = Number((await page.textContent('#sub-balance')).replace(/\D/g, ''));
    ok(after === before + 25, 'the adjustment is applied and shown', after);
    ok((await page.textContent('main')).includes('adjust by ' + USERS.care[0] + ': goodwill: web console test'), 'the history shows who adjusted and why');
    await shot(page, '07-subscriber');

    // ---------------------------------------------------------------- languages
    await page.selectOption('#lang', 'fr');
    await page.waitForFunction(() => document.documentElement.lang === 'fr');
    ok((await page.textContent('#nav')).includes('Abonné'), 'French: the menu is translated');
    ok((await page.getAttribute('html', 'dir')) === 'ltr', 'French is left to right');
    await page.selectOption('#lang', 'ar');
    await page.waitForFunction(() => document.documentElement.lang === 'ar');
    ok((await page.getAttribute('html', 'dir')) === 'rtl', 'Arabic: the page is right to left (dir=rtl)');
    await page.waitForSelector('#sub-balance');
    ok((await page.textContent('#nav')).includes('المشترك'), 'Arabic: the menu is translated');
    ok((await page.textContent('main h1')) === 'المشترك', 'Arabic: the page title is translated');
    ok((await page.textContent('main')).includes('تعديل النقاط'), 'Arabic: the forms are translated');
    await shot(page, '08-subscriber-ar');
    await page.reload();
    await page.waitForSelector('main[data-page="subscriber"] h1');
    ok((await page.getAttribute('html', 'dir')) === 'rtl', 'the language choice survives a reload');
    await page.selectOption('#lang', 'en');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    await logout(page);

    // ---------------------------------------------------------------- auditor: the record
    await login(page, 'auditor');
    await page.click('#nav a[data-page="audit"]');
    await page.waitForSelector('main[data-page="audit"] tbody tr');
    const audit = await page.textContent('main[data-page="audit"] table');
    ok(audit.includes('subscriber.adjust') && audit.includes('giftdays.put') && audit.includes('catalog.put') && audit.includes('catalog.item.patch'),
      'every change made in the browser is on the audit trail');
    await shot(page, '09-audit');
    await page.click('#nav a[data-page="giftdays"]');
    await page.waitForSelector('#giftdays-form');
    ok(await page.isDisabled('#giftdays-form input[name="timezone"]') && (await page.$$('#save-giftdays')).length === 0, 'an auditor sees the calendar read-only');
  } catch (e) {
    failed += 1;
    console.log('FAIL: ' + (e && e.stack ? e.stack : e));
    try { await shot(page, 'zz-failure'); } catch (e2) { /* the browser may be gone */ }
  }
  ok(errors.length === 0, 'no page error, no console error (CSP included)', errors.join(' | '));
  await ctx.close();
  fs.rmSync(profile, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.log('FAIL: ' + e); process.exit(1); });
