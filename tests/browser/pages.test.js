/*
 * pages.test.js - every page of the staff console in headless Chromium (Debian's
 * /usr/bin/chromium, playwright-core), in English, French and Arabic, with a screenshot of each
 * kept as an artefact (issue 12, "Tests"). Run by tests/it/test_console_charts.sh on its real data
 * (a sample day through the gateway, redemptions on handsets), as an auditor: the role that sees
 * every page. Owner: the staff-console engineer.
 *
 * Per language and page (the links of the navigation, in its order): the page draws its title;
 * no text of the page is a dictionary key (a string missing from every dictionary); in French and
 * Arabic the title is not the English one; in Arabic the page runs right to left; no page or
 * console error. Screenshots: ARTIFACTS/page-<id>-<lang>.png, their paths printed.
 *
 * Env: CONSOLE_URL, ARTIFACTS, LGW_SRC, USER_NAME, USER_PASSWORD (an auditor), MSISDN (a
 * subscriber the subscriber page opens).
 */
'use strict';
const { checks, consoleLogin, wait } = require('./chromium.js');
const fs = require('fs');
const path = require('path');

const URL = process.env.CONSOLE_URL;
const ART = process.env.ARTIFACTS;
const SRC = process.env.LGW_SRC;
const dict = (lang) => JSON.parse(fs.readFileSync(path.join(SRC, 'admin/web/i18n', lang + '.json'), 'utf8'));
// the keys a missing string would show (a key whose English text is the key itself, "unlimited",
// is a word, not a leak)
const KEYS = new Set(Object.entries(dict('en')).filter(([k, v]) => k !== v).map(([k]) => k));
const { ok, run } = checks();

const enTitle = {};

async function tour(ctx, lang) {
  const { page, errors } = await consoleLogin(ctx, URL, lang, process.env.USER_NAME, process.env.USER_PASSWORD);
  const pages = await page.$$eval('#nav a[data-page]', (as) => as.map((a) => a.getAttribute('data-page')));
  ok(pages.length >= 14, `${lang}: the auditor's navigation lists every page (${pages.join(' ')})`);
  for (const id of pages) {
    await page.goto(URL + '/#/' + id + (id === 'subscriber' ? '/' + process.env.MSISDN : ''));
    await page.waitForSelector(`main[data-page="${id}"] h1`);
    // a page draws its figures after its own requests: a moment for them (a bound, not a wait
    // on a result: the checks below hold for a page that is still loading too)
    await page.waitForTimeout(wait(1500));
    const p = await page.evaluate(() => {
      const main = document.getElementById('main');
      const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
      const texts = [];
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const s = n.textContent.trim();
        if (s) texts.push(s);
      }
      for (const el of main.querySelectorAll('[aria-label], [placeholder], [title]')) {
        for (const a of ['aria-label', 'placeholder', 'title']) if (el.getAttribute(a)) texts.push(el.getAttribute(a).trim());
      }
      return { title: main.querySelector('h1').textContent.trim(), texts, dir: getComputedStyle(main).direction, html: document.documentElement.dir };
    });
    const raw = p.texts.filter((s) => KEYS.has(s));
    ok(p.title.length > 0 && !KEYS.has(p.title), `${lang}: ${id}: titled "${p.title}"`);
    ok(raw.length === 0, `${lang}: ${id}: no dictionary key shown as text`, raw.join(', '));
    if (lang === 'en') enTitle[id] = p.title;
    else ok(p.title !== enTitle[id], `${lang}: ${id}: the title is translated (not "${enTitle[id]}")`);
    ok((lang === 'ar') === (p.dir === 'rtl' && p.html === 'rtl'), `${lang}: ${id}: ${lang === 'ar' ? 'right to left' : 'left to right'}`, p.dir + ' ' + p.html);
    const shot = path.join(ART, `page-${id}-${lang}.png`);
    await page.screenshot({ path: shot, fullPage: true });
    console.log('# screenshot ' + shot);
  }
  ok(errors.length === 0, `${lang}: no page or console error on any page`, errors.join(' | '));
  await page.close();
}

fs.mkdirSync(ART, { recursive: true });
run(async (ctx) => {
  for (const lang of ['en', 'fr', 'ar']) await tour(ctx, lang);
});
