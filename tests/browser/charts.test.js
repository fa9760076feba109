/*
 * charts.test.js - the console's charts (issue 12 §4) in headless Chromium (Debian's
 * /usr/bin/chromium, playwright-core), in English, French and Arabic. Run by
 * tests/it/test_console_charts.sh, which prepares real data (a sample day through the gateway,
 * redemptions on handsets) and starts loyalty-admin with admin/web. Owner: the staff-console
 * engineer.
 *
 * Per language: Chart.js is the vendored one (same origin); every chart of the reports and the
 * board has titled axes in that language, gridlines on the value axis, more ticks than 0 and the
 * maximum, a tooltip on hover with the value formatted; top items are named in the viewer's
 * language (never by id), tiers by their translated names; the liability is shown in money; in
 * Arabic the charts run right to left and Latin-script values in sentences are isolated.
 * Screenshots go to ARTIFACTS, their paths printed.
 *
 * Env: CONSOLE_URL, ARTIFACTS, LGW_SRC, USER_NAME, USER_PASSWORD, LIABILITY (points),
 * POINT_VALUE (currency units per point), CAT_VERSION (the catalogue's version string).
 */
'use strict';
const { launch, watchedPage } = require('./chromium.js');
const fs = require('fs');
const path = require('path');

const URL = process.env.CONSOLE_URL;
const ART = process.env.ARTIFACTS;
const SRC = process.env.LGW_SRC;
const LIABILITY = Number(process.env.LIABILITY || 0);
const POINT_VALUE = process.env.POINT_VALUE || '0';
const CAT_VERSION = process.env.CAT_VERSION || '';
const CATALOG = JSON.parse(fs.readFileSync(path.join(SRC, 'deploy/catalog.json'), 'utf8'));
const dict = (lang) => JSON.parse(fs.readFileSync(path.join(SRC, 'admin/web/i18n', lang + '.json'), 'utf8'));
const EN = dict('en');
let passed = 0;
let failed = 0;

function ok(cond, msg, detail) {
  if (cond) { passed += 1; console.log('ok - ' + msg); } else { failed += 1; console.log('FAIL: ' + msg + (detail !== undefined ? ': ' + detail : '')); }
}
// Arabic-Indic and Persian digits to Latin, then digits only: compares amounts across locales.
function digits(s) {
  return String(s).replace(/[\u0660-\u0669]/g, (c) => String(c.charCodeAt(0) - 0x660))
    .replace(/[\u06f0-\u06f9]/g, (c) => String(c.charCodeAt(0) - 0x6f0)).replace(/\D/g, '');
}
async function shot(page, name) {
  const p = path.join(ART, name + '.png');
  await page.screenshot({ path: p, fullPage: true });
  console.log('# screenshot ' + p);
}

// What Chart.js holds for the chart of a figure[data-chart=id].
async function chartInfo(page, id) {
  return page.evaluate((cid) => {
    const canvas = document.querySelector(`figure[data-chart="${cid}"] canvas`);
    const c = canvas && window.Chart.getChart(canvas);
    if (!c) return null;
    const horiz = c.options.indexAxis === 'y';
    const val = horiz ? c.scales.x : c.scales.y;
    const cat = horiz ? c.scales.y : c.scales.x;
    return {
      catTitle: cat.options.title.display ? cat.options.title.text : '',
      valTitle: val.options.title.display ? val.options.title.text : '',
      valGrid: val.options.grid.display,
      valTicks: val.ticks.map((t) => t.value),
      catReverse: !!cat.options.reverse, valReverse: !!val.options.reverse,
      valPosition: val.position, catPosition: cat.position,
      labels: c.data.labels.slice(),
      datasets: c.data.datasets.map((d) => ({ label: d.label, data: d.data.slice() })),
      tooltipRtl: !!c.options.plugins.tooltip.rtl, legendRtl: !!c.options.plugins.legend.rtl,
      width: c.width, height: c.height,
      caption: canvas.closest('figure').querySelector('figcaption').textContent,
      labelledBy: canvas.getAttribute('aria-labelledby'),
    };
  }, id);
}

// Hovers the bar with the largest value of dataset 0; returns the tooltip's lines.
async function hoverBiggest(page, id) {
  await page.locator(`figure[data-chart="${id}"]`).scrollIntoViewIfNeeded();
  const at = await page.evaluate((cid) => {
    const canvas = document.querySelector(`figure[data-chart="${cid}"] canvas`);
    const c = window.Chart.getChart(canvas);
    const d = c.data.datasets[0].data;
    const i = d.indexOf(Math.max(...d));
    const el = c.getDatasetMeta(0).data[i];
    const r = canvas.getBoundingClientRect();
    const horiz = c.options.indexAxis === 'y';
    // the middle of the bar: between its base and its tip
    return { x: r.left + (horiz ? (el.x + el.base) / 2 : el.x), y: r.top + (horiz ? el.y : (el.y + el.base) / 2), value: d[i] };
  }, id);
  await page.mouse.move(at.x, at.y);
  await page.waitForFunction((cid) => {
    const c = window.Chart.getChart(document.querySelector(`figure[data-chart="${cid}"] canvas`));
    return c.tooltip && c.tooltip.opacity === 1;
  }, id);
  const lines = await page.evaluate((cid) => {
    const c = window.Chart.getChart(document.querySelector(`figure[data-chart="${cid}"] canvas`));
    return [...(c.tooltip.title || []), ...c.tooltip.body.flatMap((b) => b.lines)];
  }, id);
  return { lines, value: at.value };
}

async function runLang(ctx, lang) {
  const T = dict(lang);
  const tr = (k) => (T[k] !== undefined ? T[k] : EN[k]);
  const { page, errors } = await watchedPage(ctx);
  await page.goto(URL + '/#/login');
  await page.waitForSelector('main[data-page="login"] input[name="user"]');
  await page.selectOption('#lang', lang);
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
  await page.fill('input[name="user"]', process.env.USER_NAME);
  await page.fill('input[name="password"]', process.env.USER_PASSWORD);
  await page.click('main button[type="submit"]');
  await page.waitForSelector('#nav:not([hidden])');

  // ------------------------------------------------------------ the library: vendored, pinned
  const lib = await page.evaluate(() => ({
    version: window.Chart && window.Chart.version,
    src: [...document.scripts].map((s) => s.src),
  }));
  ok(lib.version === '4.5.1' && lib.src.includes(URL + '/vendor/chart.umd.min.js'),
    `${lang}: Chart.js ${lib.version} is served by loyalty-admin itself`, JSON.stringify(lib));

  // ------------------------------------------------------------ reports
  const asked = [];
  const onRequest = (req) => { if (req.url().includes('/api/reports/')) asked.push(new globalThis.URL(req.url()).pathname); };
  page.on('request', onRequest);
  await page.click('#nav a[data-page="reports"]');
  await page.waitForSelector('figure[data-chart="tiers"] canvas');
  page.off('request', onRequest);
  ok(asked.includes('/api/reports/aggregates') && !asked.includes('/api/reports/wallets'),
    `${lang}: the reports read the ledger's daily aggregates, not a scan of the wallets`, asked.join(' '));
  const rtl = lang === 'ar';
  const expect = {
    perday: [tr('chart.axis.day'), tr('chart.axis.points')],
    topitems: [tr('chart.axis.item'), tr('chart.axis.redemptions')],
    tiers: [tr('chart.axis.tier'), tr('chart.axis.members')],
  };
  for (const [id, [cat, val]] of Object.entries(expect)) {
    const c = await chartInfo(page, id);
    ok(c && c.catTitle === cat && c.valTitle === val, `${lang}: ${id}: axes titled "${cat}" and "${val}"`, JSON.stringify(c && [c.catTitle, c.valTitle]));
    ok(c && c.valGrid && c.valTicks.length >= 3, `${lang}: ${id}: gridlines and ${c && c.valTicks.length} ticks on the value axis (not only 0 and the maximum)`, c && c.valTicks.join(','));
    ok(c && c.labelledBy && c.caption.length > 0, `${lang}: ${id}: the canvas is labelled by its caption "${c && c.caption}"`);
    ok(c && c.width > 200 && c.height > 100, `${lang}: ${id}: drawn at ${c && c.width}x${c && c.height}`);
    const horiz = id === 'topitems';
    const dirOk = rtl
      ? (horiz ? c.valReverse && c.catPosition === 'right' : c.catReverse && c.valPosition === 'right') && c.tooltipRtl && c.legendRtl
      : (horiz ? !c.valReverse && c.catPosition === 'left' : !c.catReverse && c.valPosition === 'left') && !c.tooltipRtl;
    ok(dirOk, `${lang}: ${id}: ${rtl ? 'right to left (axis from the right, values on the right, RTL legend and tooltips)' : 'left to right'}`,
      JSON.stringify({ catReverse: c.catReverse, valReverse: c.valReverse, valPosition: c.valPosition, catPosition: c.catPosition, tooltipRtl: c.tooltipRtl }));
  }
  // points per day: dates in the viewer's language, issued and redeemed named in it
  const perday = await chartInfo(page, 'perday');
  ok(perday.datasets.map((d) => d.label).join('|') === [tr('reports.issued'), tr('reports.redeemed')].join('|'),
    `${lang}: perday: series named in the viewer's language`, perday.datasets.map((d) => d.label).join('|'));
  const monthFmt = new Intl.DateTimeFormat({ en: 'en-GB', fr: 'fr-FR', ar: 'ar-MA' }[lang], { month: 'short', timeZone: 'UTC' });
  ok(perday.labels.length >= 1 && perday.labels.every((l) => !/^\d{4}-\d\d-\d\d$/.test(l) && !/^\d\d-\d\d$/.test(l)),
    `${lang}: perday: days are dates in the viewer's language ("${perday.labels[0]}"), not ISO strings`, monthFmt.format(new Date()));
  ok(perday.datasets[0].data.some((v) => v > 0), `${lang}: perday: points issued on the sample day are plotted`, perday.datasets[0].data.join(','));
  // top items: names in the viewer's language, never ids
  const top = await chartInfo(page, 'topitems');
  const want = ['DATA_1GB', 'DATA_5GB'].map((id) => CATALOG.items.find((x) => x.id === id).names[lang]);
  ok(JSON.stringify(top.labels) === JSON.stringify(want) && JSON.stringify(top.datasets[0].data) === '[2,1]',
    `${lang}: top items named in the viewer's language: ${want.join(', ')} (2 and 1 redemptions)`, JSON.stringify([top.labels, top.datasets[0].data]));
  ok(!top.labels.some((l) => /^[A-Z0-9_]+$/.test(l)), `${lang}: no item id on the chart`);
  // tiers: translated names
  const tiers = await chartInfo(page, 'tiers');
  ok(tiers.labels.includes(tr('tier.gold')) && tiers.labels.includes(tr('tier.silver')),
    `${lang}: tiers by their names in the viewer's language (${tr('tier.gold')}, ${tr('tier.silver')})`, tiers.labels.join(','));
  const gold = tiers.datasets[0].data[tiers.labels.indexOf(tr('tier.gold'))];
  const silver = tiers.datasets[0].data[tiers.labels.indexOf(tr('tier.silver'))];
  ok(gold === 1 && silver === 2, `${lang}: members per tier: 1 gold, 2 silver`, `${gold} ${silver}`);
  ok(JSON.stringify(tiers.labels) === JSON.stringify([tr('tier.standard'), tr('tier.silver'), tr('tier.gold')]),
    `${lang}: tiers in the table's order, lowest first`, tiers.labels.join(','));
  // tooltips
  const tip = await hoverBiggest(page, 'topitems');
  ok(tip.lines.some((l) => l.includes(want[0])) && tip.lines.some((l) => l.includes(tr('reports.redemptions')) && digits(l) === String(tip.value)),
    `${lang}: hovering a bar shows its tooltip: ${tip.lines.join(' / ')}`, JSON.stringify(tip));
  await shot(page, 'reports-' + lang + '-tooltip');
  // liability in money: LIABILITY points x POINT_VALUE, in the viewer's number format
  const money = await page.textContent('#rep-liability-money');
  const [w, f = ''] = POINT_VALUE.split('.');
  const cents = (BigInt(LIABILITY) * BigInt(w + f.padEnd(6, '0'))) / 10000n; // minor units (2 decimals)
  ok(digits(money).includes(cents.toString()) && /MAD|د\.م\./.test(money),
    `${lang}: the liability in money: "${money.trim()}" (${LIABILITY} points x ${POINT_VALUE} MAD)`, cents.toString());
  await page.mouse.move(0, 0);
  await shot(page, 'reports-' + lang);

  // ------------------------------------------------------------ the live board
  await page.click('#nav a[data-page="board"]');
  await page.waitForSelector('figure[data-chart="board-rate"] canvas');
  const board = await chartInfo(page, 'board-rate');
  ok(board.catTitle === tr('chart.axis.minute') && board.valTitle === tr('chart.axis.redemptions') && board.valTicks.length >= 3,
    `${lang}: board: redemptions per minute with titled axes and ticks`, JSON.stringify([board.catTitle, board.valTitle, board.valTicks]));
  ok(board.datasets[0].data.reduce((a, x) => a + x, 0) === 3, `${lang}: board: the three redemptions of the last 15 minutes`, board.datasets[0].data.join(','));
  await shot(page, 'board-' + lang);

  // ------------------------------------------------------------ the loyalty table page
  await page.click('#nav a[data-page="loyalty"]');
  await page.waitForSelector('#loyalty-form textarea');
  const tiersText = await page.textContent('main[data-page="loyalty"] table');
  ok(tiersText.includes(tr('tier.gold')) && tiersText.includes(tr('tier.silver')), `${lang}: the loyalty table page names the tiers in the viewer's language`, tiersText.slice(0, 200));
  const tableDoc = JSON.parse(await page.inputValue('#loyalty-doc'));
  ok(tableDoc.rates && tableDoc.rates.TOPUP && (await page.getAttribute('#loyalty-doc', 'dir')) === 'ltr',
    `${lang}: the stored table is in the editor, left to right`);
  if (lang === 'en') {
    const before = (await page.textContent('#loyalty-version')).match(/\d+/)[0];
    tableDoc.rates.TOPUP.points = 2;
    await page.fill('#loyalty-doc', JSON.stringify(tableDoc, null, 2));
    await page.click('#save-loyalty');
    await page.waitForFunction(() => /Loyalty table saved/.test(document.getElementById('status').textContent));
    const after = (await page.textContent('#loyalty-version')).match(/\d+/)[0];
    ok(Number(after) === Number(before) + 1, `en: marketing saves the table from the page: version ${before} -> ${after}`);
    // the running gateway takes it within a poll or two: the page says so once it reported
    let everywhere = false;
    for (let i = 0; i < 20 && !everywhere; i++) {
      await page.waitForTimeout(500);
      await page.click('#nav a[data-page="board"]');
      await page.click('#nav a[data-page="loyalty"]');
      await page.waitForSelector('#doc-gateways');
      everywhere = (await page.getAttribute('#doc-gateways', 'data-everywhere')) === '1';
    }
    ok(everywhere, `en: the page shows the running gateway on version ${after}`, await page.textContent('#doc-gateways'));
    tableDoc.tiers[0].min_points = 7;
    await page.fill('#loyalty-doc', JSON.stringify(tableDoc, null, 2));
    await page.click('#save-loyalty');
    await page.waitForFunction(() => document.getElementById('alert').textContent.includes('document.tiers[0].min_points'));
    ok(true, "en: a table the gateway's parser refuses is shown with the key at fault");
  }
  await shot(page, 'loyalty-' + lang);

  // ------------------------------------------------------------ the USSD menus page
  await page.click('#nav a[data-page="menus"]');
  await page.waitForSelector('#menus-form textarea');
  const menus = JSON.parse(await page.inputValue('#menus-doc'));
  ok(menus.menus && menus.menus.en && menus.menus.ar && (await page.textContent('#menus-version')).includes('seed'),
    `${lang}: the USSD menus page shows the stored menus (seeded from the gateway's file)`);

  // ------------------------------------------------------------ Latin values in Arabic sentences
  if (rtl) {
    await page.click('#nav a[data-page="catalog"]');
    await page.waitForSelector('#item-form');
    const note = await page.textContent('main[data-page="catalog"] p.note');
    ok(note.includes('\u2068' + CAT_VERSION + '\u2069'),
      `ar: the catalogue version "${CAT_VERSION}" is isolated in the Arabic sentence (was shown as "a2.07-12-2026")`, JSON.stringify(note));
    ok(await page.getAttribute('#item-form [name="catversion"]', 'dir') === 'auto',
      'ar: text fields take their value\'s direction (a version string typed in is not reordered)');
    await shot(page, 'catalog-ar');
  }
  ok(errors.length === 0, `${lang}: no page error, no console error (CSP included)`, errors.join(' | '));
  await page.close();
}

async function main() {
  fs.mkdirSync(ART, { recursive: true });
  const browser = await launch();
  try {
    for (const lang of ['en', 'fr', 'ar']) await runLang(browser.ctx, lang);
  } catch (e) {
    failed += 1;
    console.log('FAIL: ' + (e && e.stack ? e.stack : e));
  } finally {
    await browser.close();
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
main();
