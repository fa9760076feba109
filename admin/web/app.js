/*
 * app.js - the staff console (issue 5): login, gift-day calendar, catalogue, subscriber care, dead
 * letters, audit trail, live gift-day board, reminder broadcasts (campaigns with their live
 * progress) and reports, in English, French and Arabic (right to left). Plain JavaScript, no build step, one library (Chart.js, vendored): it talks to the loyalty-admin API on the
 * same origin with the session token (sessionStorage: gone with the tab). Owner: the
 * staff-console engineer.
 *
 * Rules kept throughout:
 *  - data from the API is untrusted (dead letters hold subscribers' own text): every value goes
 *    into the page with textContent / attributes, never innerHTML;
 *  - the CSP allows only this origin's scripts and styles: no inline script or style attribute
 *    (charts are Chart.js canvases, vendored: vendor/README.txt);
 *  - every table can be exported as CSV from the rows shown (RFC 4180, cells a spreadsheet would
 *    run as formulas get a leading apostrophe, like the API's own CSV);
 *  - every control is a native element with a label, so the keyboard and screen readers work;
 *  - UI strings come from i18n/<lang>.json; English is the fallback for a missing key.
 */
'use strict';

(function () {
  const LANGS = ['en', 'fr', 'ar'];
  const RTL = new Set(['ar']);
  const LOCALE = { en: 'en-GB', fr: 'fr-FR', ar: 'ar-MA' };
  const BOARD_REFRESH_MS = 5000;
  // The runner publishes a campaign's figures every second; every 2 s is live enough to watch.
  const CAMPAIGN_REFRESH_MS = 2000;
  const REPORT_PAGE = 2000;
  const REPORT_MAX_PAGES = 100;
  const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
  const CATEGORIES = ['data', 'voice', 'sms', 'voucher', 'charity'];
  const ITEM_LANGS = ['ar', 'fr', 'en', 'fa'];

  // Pages: which roles see them (the API enforces the same; this only hides what would be 403).
  const PAGES = [
    { id: 'giftdays', roles: ['marketing', 'care', 'auditor'] },
    { id: 'catalog', roles: ['marketing', 'care', 'auditor'] },
    { id: 'loyalty', roles: ['marketing', 'care', 'auditor'] },
    { id: 'menus', roles: ['marketing', 'care', 'auditor'] },
    { id: 'rules', roles: ['marketing', 'care', 'auditor'] },
    { id: 'board', roles: ['marketing', 'care', 'auditor'] },
    { id: 'campaigns', roles: ['marketing', 'care', 'auditor'] },
    { id: 'subscriber', roles: ['care', 'auditor'] },
    { id: 'deadletters', roles: ['marketing', 'care', 'auditor'] },
    { id: 'reports', roles: ['marketing', 'auditor'] },
    { id: 'audit', roles: ['auditor'] },
  ];
  const HOME = { marketing: 'giftdays', care: 'subscriber', auditor: 'board' };

  const S = {
    lang: 'en',
    dict: {},
    fallback: {},
    token: sessionStorage.getItem('lgw.token') || '',
    user: sessionStorage.getItem('lgw.user') || '',
    role: sessionStorage.getItem('lgw.role') || '',
    view: 0, // increases on every navigation: async work of an old view drops its results
    timer: null,
  };

  // ------------------------------------------------------------------ strings
  // A value set into a right-to-left sentence is isolated (U+2068 FSI .. U+2069 PDI): without it
  // the bidi algorithm reorders a Latin-script value's runs, e.g. the catalogue version
  // "2026-12-07.a2" came out as "a2.07-12-2026" in the Arabic page.
  const isolate = (v) => (RTL.has(S.lang) ? '\u2068' + v + '\u2069' : String(v));
  function t(key, vars) {
    let s = S.dict[key];
    if (s === undefined) s = S.fallback[key];
    if (s === undefined) s = key;
    if (vars) {
      s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? isolate(vars[k]) : m));
    }
    return s;
  }

  async function loadDict(lang) {
    const res = await fetch('i18n/' + lang + '.json', { cache: 'no-cache' });
    if (!res.ok) throw new Error('i18n/' + lang + '.json: ' + res.status);
    return res.json();
  }

  async function setLang(lang) {
    if (!LANGS.includes(lang)) lang = 'en';
    if (!Object.keys(S.fallback).length) S.fallback = await loadDict('en');
    S.dict = lang === 'en' ? S.fallback : await loadDict(lang);
    S.lang = lang;
    localStorage.setItem('lgw.lang', lang);
    document.documentElement.lang = lang;
    document.documentElement.dir = RTL.has(lang) ? 'rtl' : 'ltr';
    document.getElementById('lang').value = lang;
    document.querySelectorAll('[data-i18n]').forEach((el) => {
      el.textContent = t(el.getAttribute('data-i18n'));
    });
    document.querySelectorAll('[data-i18n-aria]').forEach((el) => {
      el.setAttribute('aria-label', t(el.getAttribute('data-i18n-aria')));
    });
    document.title = t('app.title');
  }

  // ------------------------------------------------------------------ formatting
  function fmtNum(n) {
    if (n === null || n === undefined || n === '') return '';
    return new Intl.NumberFormat(LOCALE[S.lang]).format(n);
  }
  function fmtPct(x) {
    return new Intl.NumberFormat(LOCALE[S.lang], { style: 'percent', maximumFractionDigits: 1 }).format(x);
  }
  function fmtTime(unixSeconds) {
    if (!unixSeconds) return '';
    return new Intl.DateTimeFormat(LOCALE[S.lang], { dateStyle: 'medium', timeStyle: 'medium' })
      .format(new Date(unixSeconds * 1000));
  }
  function fmtTimeMs(ms) { return ms ? fmtTime(ms / 1000) : ''; }
  function todayIso() {
    const d = new Date();
    const p = (n) => String(n).padStart(2, '0');
    return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate());
  }

  // ------------------------------------------------------------------ DOM helpers
  // h('tag', {attr: v, class: c, on: {click: fn}}, children...): text children become text nodes.
  function h(tag, attrs, ...kids) {
    const el = document.createElement(tag);
    // a text field shows its value in the value's own direction: an id or a version string
    // ("2026-12-07.w3") typed in the Arabic page is not reordered
    if (tag === 'input' || tag === 'textarea') el.setAttribute('dir', 'auto');
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
      else if (k === 'text') el.textContent = v;
      else if (k === 'value') el.value = v;
      else if (k === 'checked') el.checked = !!v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    append(el, kids);
    return el;
  }
  function append(el, kids) {
    for (const k of kids.flat()) {
      if (k === null || k === undefined || k === false) continue;
      el.appendChild(typeof k === 'string' || typeof k === 'number' ? document.createTextNode(String(k)) : k);
    }
    return el;
  }
  let uid = 0;
  function nextId(p) { uid += 1; return (p || 'f') + uid; }
  // A labelled input: field('key', inputElement)
  function field(labelKey, input, hintKey) {
    if (!input.id) input.id = nextId('in');
    const kids = [h('label', { for: input.id, text: t(labelKey) }), input];
    if (hintKey) {
      const hid = nextId('hint');
      input.setAttribute('aria-describedby', hid);
      kids.push(h('span', { id: hid, class: 'note', text: t(hintKey) }));
    }
    return h('div', { class: 'field' }, kids);
  }

  function say(msg) {
    document.getElementById('alert').textContent = '';
    document.getElementById('status').textContent = msg || '';
  }
  function alarm(msg) {
    document.getElementById('status').textContent = '';
    document.getElementById('alert').textContent = msg || '';
  }
  function apiError(r) {
    const d = r.data || {};
    let msg = t('error.http', { status: r.status }) + (d.error ? ': ' + d.error : '');
    if (d.field) msg += ' (' + t('error.field') + ' ' + d.field + ')';
    alarm(msg);
  }

  // ------------------------------------------------------------------ API
  async function api(method, path, body) {
    const opt = { method, headers: {}, cache: 'no-store' };
    if (S.token) opt.headers.Authorization = 'Bearer ' + S.token;
    if (body !== undefined) {
      opt.headers['Content-Type'] = 'application/json';
      opt.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, opt);
    } catch (e) {
      return { status: 0, ok: false, data: { error: t('error.network') } };
    }
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status === 401 && path !== '/api/login') {
      clearSession();
      go('login');
      alarm(t('error.session'));
    }
    return { status: res.status, ok: res.ok, data };
  }

  // A request id for a change that may be retried (adjust): one per form, renewed after success.
  function requestId() {
    const b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return 'web-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  // ------------------------------------------------------------------ CSV and tables
  function csvCell(v) {
    let s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
    return '"' + s.replace(/"/g, '""') + '"';
  }
  function toCsv(cols, rows) {
    const lines = [cols.map((c) => csvCell(c.key)).join(',')];
    for (const r of rows) lines.push(cols.map((c) => csvCell(c.raw ? c.raw(r) : r[c.key])).join(','));
    return lines.join('\r\n') + '\r\n';
  }
  function download(name, text) {
    const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
    const a = h('a', { href: url, download: name });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }
  // cols: [{key, label (i18n key), num, fmt(row) -> string|Node, raw(row) -> csv value}]
  function dataTable(captionKey, cols, rows, csvName, emptyKey) {
    const cap = h('caption', { text: t(captionKey) });
    const head = h('tr', {}, cols.map((c) => h('th', { scope: 'col', class: c.num ? 'num' : null, text: t(c.label) })));
    const body = h('tbody', {});
    for (const r of rows) {
      body.appendChild(h('tr', {}, cols.map((c) => {
        const v = c.fmt ? c.fmt(r) : r[c.key];
        return h('td', { class: c.num ? 'num' : null }, v === null || v === undefined ? '' : (v instanceof Node ? v : String(v)));
      })));
    }
    if (!rows.length) {
      body.appendChild(h('tr', {}, h('td', { colspan: cols.length, class: 'note', text: t(emptyKey || 'table.empty') })));
    }
    const btn = h('button', {
      type: 'button', class: 'secondary', 'data-csv': csvName,
      on: { click: () => download(csvName, toCsv(cols, rows)) },
    }, t('csv.export'));
    return h('div', { class: 'table-wrap' },
      h('div', { class: 'table-tools' }, btn),
      h('table', {}, cap, h('thead', {}, head), body));
  }

  // ------------------------------------------------------------------ charts (Chart.js)
  // Chart.js 4.5.1, vendored in vendor/chart.umd.min.js (pinned, MIT: vendor/README.txt) and
  // loaded by index.html from this origin before this file. Each chart: a caption, titled axes,
  // gridlines on the value axis, tooltips with the value formatted for the viewer, texts in the
  // viewer's language. Right to left in Arabic: the category axis runs from the right, the value
  // axis stands on the right, legend and tooltips are RTL; dates and numbers in Latin script are
  // isolated (FSI..PDI) so the bidi algorithm cannot scramble them. The numbers are also in the
  // table next to each chart (and its CSV): the chart is never the only source.
  const CHARTS = new Set();
  function dropCharts(all) { // charts whose canvas left the page (a redraw, another view)
    for (const c of CHARTS) if (all || !c.canvas.isConnected) { c.destroy(); CHARTS.delete(c); }
  }
  const SERIES_COLORS = ['#0b5cad', '#b35900', '#1a7f37', '#8250df', '#b42318'];
  // spec: {title, labels[], series: [{name, values[]}], xTitle, yTitle, fmt (value -> text),
  //        horizontal (bars along the inline axis: long labels such as item names), short}
  function chart(parent, spec) {
    const cid = nextId('chart');
    const canvas = h('canvas', { role: 'img', 'aria-labelledby': cid });
    const fig = h('figure', { class: 'chart', 'data-chart': spec.id || null },
      h('figcaption', { id: cid, text: spec.title }),
      h('div', { class: 'chart-box' + (spec.short ? ' short' : '') }, canvas));
    parent.appendChild(fig);
    if (typeof window.Chart !== 'function') {
      fig.appendChild(h('p', { class: 'note', text: t('chart.unavailable') }));
      return null;
    }
    dropCharts(false);
    const rtl = RTL.has(S.lang);
    const fmt = spec.fmt || fmtNum;
    const dir = rtl ? 'rtl' : 'ltr';
    const css = getComputedStyle(document.documentElement);
    const font = { family: css.fontFamily, size: 12 };
    const cat = {
      title: { display: true, text: spec.xTitle, font },
      grid: { display: false },
      ticks: { font, autoSkip: true, maxRotation: 0 },
    };
    const val = {
      beginAtZero: true,
      title: { display: true, text: spec.yTitle, font },
      grid: { display: true, color: '#d0d7de' },
      ticks: { font, precision: 0, callback: (v) => fmt(v) },
    };
    if (spec.horizontal) { // values along x, categories down y
      val.reverse = rtl;
      cat.position = rtl ? 'right' : 'left';
    } else {
      cat.reverse = rtl;
      val.position = rtl ? 'right' : 'left';
    }
    const c = new window.Chart(canvas, {
      type: 'bar',
      data: {
        labels: spec.labels,
        datasets: spec.series.map((x, i) => ({
          label: x.name, data: x.values, backgroundColor: SERIES_COLORS[i % SERIES_COLORS.length],
          borderRadius: 2, maxBarThickness: 48,
        })),
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, locale: LOCALE[S.lang],
        indexAxis: spec.horizontal ? 'y' : 'x',
        scales: spec.horizontal ? { x: val, y: cat } : { x: cat, y: val },
        plugins: {
          legend: { display: spec.series.length > 1, position: 'top', rtl, textDirection: dir, labels: { font } },
          tooltip: {
            rtl, textDirection: dir, titleFont: font, bodyFont: font,
            callbacks: { label: (ctx) => ctx.dataset.label + ': ' + isolate(fmt(spec.horizontal ? ctx.parsed.x : ctx.parsed.y)) },
          },
        },
      },
    });
    CHARTS.add(c);
    return c;
  }

  // ------------------------------------------------------------------ session, navigation
  function clearSession() {
    S.token = S.user = S.role = '';
    sessionStorage.removeItem('lgw.token');
    sessionStorage.removeItem('lgw.user');
    sessionStorage.removeItem('lgw.role');
  }
  function allowed(page) {
    const p = PAGES.find((x) => x.id === page);
    return p && p.roles.includes(S.role);
  }
  function go(page, arg) {
    const target = '#/' + page + (arg ? '/' + encodeURIComponent(arg) : '');
    if (location.hash === target) route();
    else location.hash = target;
  }
  function drawChrome(page) {
    const nav = document.getElementById('nav');
    const list = document.getElementById('nav-list');
    const logged = !!S.token;
    nav.hidden = !logged;
    document.getElementById('logout').hidden = !logged;
    document.getElementById('who').textContent = logged ? t('who', { user: S.user, role: t('role.' + S.role) }) : '';
    list.textContent = '';
    if (!logged) return;
    for (const p of PAGES) {
      if (!p.roles.includes(S.role)) continue;
      list.appendChild(h('li', {}, h('a', { href: '#/' + p.id, 'aria-current': p.id === page ? 'page' : null, 'data-page': p.id, text: t('nav.' + p.id) })));
    }
  }

  const VIEWS = {};
  async function route() {
    const m = location.hash.match(/^#\/([a-z]+)(?:\/(.*))?$/);
    let page = m ? m[1] : '';
    const arg = m && m[2] ? decodeURIComponent(m[2]) : '';
    if (S.timer) { clearTimeout(S.timer); S.timer = null; }
    dropCharts(true);
    S.view += 1;
    if (!S.token) page = 'login';
    else if (page === 'login' || !allowed(page)) page = HOME[S.role] || 'board';
    drawChrome(page);
    say('');
    const main = document.getElementById('main');
    main.textContent = '';
    main.setAttribute('data-page', page);
    await VIEWS[page](main, arg, S.view);
    const h1 = main.querySelector('h1');
    if (h1) { h1.setAttribute('tabindex', '-1'); h1.focus(); }
  }
  const live = (view) => view === S.view; // false once the user navigated away

  // ------------------------------------------------------------------ login
  VIEWS.login = async function (main) {
    const user = h('input', { name: 'user', autocomplete: 'username', required: true, maxlength: 32 });
    const pw = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 256 });
    const form = h('form', { class: 'login', novalidate: true },
      h('h1', { text: t('login.title') }),
      field('login.user', user), field('login.password', pw),
      h('button', { type: 'submit', text: t('login.submit') }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      if (!user.value || !pw.value) { alarm(t('login.missing')); return; }
      const r = await api('POST', '/api/login', { user: user.value.trim(), password: pw.value });
      pw.value = '';
      if (!r.ok) {
        alarm(r.status === 429 ? t('login.ratelimited') : r.status === 401 ? t('login.wrong') : (r.data && r.data.error) || t('error.http', { status: r.status }));
        return;
      }
      S.token = r.data.token; S.user = r.data.user; S.role = r.data.role;
      sessionStorage.setItem('lgw.token', S.token);
      sessionStorage.setItem('lgw.user', S.user);
      sessionStorage.setItem('lgw.role', S.role);
      go(HOME[S.role] || 'board');
    });
    main.appendChild(form);
  };

  // ------------------------------------------------------------------ gift days
  const DEFAULT_CALENDAR = {
    timezone: 'Africa/Casablanca',
    weekly: [{ day: 'wednesday', start: '00:00', end: '23:59:59' }],
    cancelled: [], special: [],
  };

  // Which version each running gateway uses (GET of a document: gateways[] from cfg:{adm}:seen).
  function gatewaysNote(d) {
    const gws = d.gateways || [];
    let text;
    if (!gws.length) text = t('doc.gateways.none');
    else if (d.in_force_everywhere) text = t('doc.gateways.all', { n: gws.length, version: d.version });
    else text = t('doc.gateways.behind', { list: gws.filter((g) => g.version !== d.version).map((g) => isolate(g.id) + ': ' + isolate(g.version || t('doc.gateways.file'))).join(', ') });
    return h('p', { class: 'note', id: 'doc-gateways', 'data-everywhere': d.in_force_everywhere ? '1' : '0', text });
  }

  VIEWS.giftdays = async function (main, arg, view) {
    const canEdit = S.role === 'marketing';
    main.appendChild(h('h1', { text: t('giftdays.title') }));
    const r = await api('GET', '/api/giftdays');
    if (!live(view)) return;
    if (!r.ok) { apiError(r); return; }
    const version = r.data.version;
    const doc = r.data.document || JSON.parse(JSON.stringify(DEFAULT_CALENDAR));
    main.appendChild(h('p', { class: 'note', text: version
      ? t('doc.version', { version, by: r.data.updated_by || '-', at: fmtTimeMs(r.data.updated_at) })
      : t('giftdays.none') }));
    main.appendChild(gatewaysNote(r.data));

    const form = h('form', { id: 'giftdays-form', novalidate: true });
    const fs = (key, ...kids) => h('fieldset', { disabled: !canEdit || null }, h('legend', { text: t(key) }), kids);

    const tz = h('input', { name: 'timezone', value: doc.timezone || '', required: true });
    form.appendChild(fs('giftdays.zone', field('giftdays.timezone', tz, 'giftdays.timezone.hint')));

    // weekly rules
    const weeklyBody = h('div', { id: 'weekly-rows' });
    const addWeekly = (w) => {
      const day = h('select', { name: 'day' }, WEEKDAYS.map((d) => h('option', { value: d, text: t('day.' + d) })));
      day.value = w.day || 'wednesday';
      const start = h('input', { name: 'start', type: 'time', step: 1, value: w.start || '00:00' });
      const end = h('input', { name: 'end', type: 'time', step: 1, value: w.end || '23:59:59' });
      const row = h('div', { class: 'row weekly-row' }, field('giftdays.day', day), field('giftdays.start', start), field('giftdays.end', end),
        h('button', { type: 'button', class: 'secondary', on: { click: () => row.remove() }, text: t('remove') }));
      row._orig = w;
      weeklyBody.appendChild(row);
    };
    (doc.weekly || []).forEach(addWeekly);
    form.appendChild(fs('giftdays.weekly', weeklyBody,
      h('button', { type: 'button', class: 'secondary', on: { click: () => addWeekly({}) }, text: t('giftdays.addweekly') })));

    // cancelled dates
    const cancelBody = h('div', { id: 'cancelled-rows' });
    const addCancel = (d) => {
      const inp = h('input', { name: 'cancelled', type: 'date', value: d || '' });
      const row = h('div', { class: 'row cancel-row' }, field('giftdays.cancelled.date', inp),
        h('button', { type: 'button', class: 'secondary', on: { click: () => row.remove() }, text: t('remove') }));
      cancelBody.appendChild(row);
    };
    (doc.cancelled || []).forEach(addCancel);
    form.appendChild(fs('giftdays.cancelled', cancelBody,
      h('button', { type: 'button', class: 'secondary', on: { click: () => addCancel('') }, text: t('giftdays.addcancel') })));

    // special days
    const specialBody = h('div', { id: 'special-rows' });
    const addSpecial = (w) => {
      const name = h('input', { name: 'special-name', value: w.name || '', maxlength: 40 });
      const start = h('input', { name: 'special-start', type: 'datetime-local', step: 1, value: w.start || '' });
      const end = h('input', { name: 'special-end', type: 'datetime-local', step: 1, value: w.end || '' });
      const row = h('div', { class: 'row special-row' }, field('giftdays.special.name', name), field('giftdays.start', start), field('giftdays.end', end),
        h('button', { type: 'button', class: 'secondary', on: { click: () => row.remove() }, text: t('remove') }));
      row._orig = w;
      specialBody.appendChild(row);
    };
    (doc.special || []).forEach(addSpecial);
    form.appendChild(fs('giftdays.special', specialBody,
      h('button', { type: 'button', class: 'secondary', id: 'add-special', on: { click: () => addSpecial({}) }, text: t('giftdays.addspecial') })));

    // premium early opening
    const prem = doc.premium || { tiers: [], early_minutes: 0 };
    const ptiers = h('input', { name: 'premium-tiers', value: (prem.tiers || []).join(', ') });
    const pmin = h('input', { name: 'premium-minutes', type: 'number', min: 0, max: 1440, value: prem.early_minutes || 0 });
    form.appendChild(fs('giftdays.premium', h('div', { class: 'row' }, field('giftdays.premium.tiers', ptiers, 'giftdays.premium.tiers.hint'), field('giftdays.premium.minutes', pmin))));

    const build = () => {
      // Start from the stored document so comments ("//" keys) and unknown-to-us keys survive.
      const out = Object.assign({}, doc);
      out.timezone = tz.value.trim();
      out.weekly = Array.from(weeklyBody.querySelectorAll('.weekly-row')).map((row) => {
        const [day, start, end] = row.querySelectorAll('select, input');
        return Object.assign({}, row._orig, { day: day.value, start: start.value, end: end.value });
      });
      out.cancelled = Array.from(cancelBody.querySelectorAll('input')).map((i) => i.value).filter(Boolean);
      out.special = Array.from(specialBody.querySelectorAll('.special-row')).map((row) => {
        const [name, start, end] = row.querySelectorAll('input');
        return Object.assign({}, row._orig, { name: name.value.trim(), start: start.value, end: end.value });
      });
      const tiers = ptiers.value.split(',').map((x) => x.trim()).filter(Boolean);
      out.premium = Object.assign({}, doc.premium || {}, { tiers, early_minutes: Number(pmin.value) || 0 });
      // The calendar refuses an empty premium list: no tiers means no early opening at all.
      if (!tiers.length) delete out.premium;
      return out;
    };
    if (canEdit) {
      form.appendChild(h('button', { type: 'submit', id: 'save-giftdays', text: t('save') }));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const res = await api('PUT', '/api/giftdays', { version, document: build() });
        if (!res.ok) {
          if (res.status === 409) alarm(t('doc.stale'));
          else apiError(res);
          return;
        }
        await route();
        say(t('giftdays.saved', { version: res.data.version }));
      });
    } else {
      form.appendChild(h('p', { class: 'note', text: t('readonly') }));
    }
    main.appendChild(form);

    // preview of the next 8 openings
    const sec = h('section', { 'aria-labelledby': 'preview-h' }, h('h2', { id: 'preview-h', text: t('giftdays.preview') }));
    const tierSel = h('select', { id: 'preview-tier' }, h('option', { value: '', text: t('giftdays.preview.regular') }),
      (prem.tiers || []).map((x) => h('option', { value: x, text: x })));
    const out = h('div', { id: 'preview' });
    const load = async () => {
      const q = tierSel.value ? '?tier=' + encodeURIComponent(tierSel.value) : '';
      const p = await api('GET', '/api/giftdays/preview' + q);
      if (!live(view)) return;
      out.textContent = '';
      if (p.status === 404) { out.appendChild(h('p', { class: 'note', text: t('giftdays.preview.none') })); return; }
      if (!p.ok) { apiError(p); return; }
      out.appendChild(h('p', { class: 'note', text: t('giftdays.preview.zone', { zone: p.data.timezone }) }));
      out.appendChild(dataTable('giftdays.preview.caption', [
        { key: 'gift_day', label: 'col.giftday' },
        { key: 'name', label: 'col.name', fmt: (o) => (o.special ? o.name : t('giftdays.weeklyname')) },
        { key: 'opens_local', label: 'col.opens' },
        { key: 'closes_local', label: 'col.closes' },
        { key: 'opens', label: 'col.opensutc' },
      ], p.data.openings || [], 'gift-day-preview.csv'));
    };
    tierSel.addEventListener('change', load);
    sec.appendChild(field('giftdays.preview.tier', tierSel));
    sec.appendChild(out);
    main.appendChild(sec);
    await load();
  };

  // ------------------------------------------------------------------ catalogue
  function itemName(it) {
    const n = it.names || {};
    return n[S.lang] || n.en || n.fr || n.ar || it.id;
  }

  VIEWS.catalog = async function (main, arg, view) {
    const canEdit = S.role === 'marketing';
    main.appendChild(h('h1', { text: t('catalog.title') }));
    const r = await api('GET', '/api/catalog');
    if (!live(view)) return;
    if (!r.ok) { apiError(r); return; }
    const version = r.data.version;
    const doc = r.data.document || { version: '', items: [] };
    main.appendChild(h('p', { class: 'note', text: version
      ? t('catalog.version', { name: doc.version || '', version, by: r.data.updated_by || '-', at: fmtTimeMs(r.data.updated_at) })
      : t('catalog.none') }));
    main.appendChild(gatewaysNote(r.data));

    const items = doc.items || [];
    const patch = async (id, body) => {
      const res = await api('PATCH', '/api/catalog/items/' + encodeURIComponent(id), Object.assign({ version }, body));
      if (!res.ok) { if (res.status === 409) alarm(t('doc.stale')); else apiError(res); return; }
      await route();
      say(t('catalog.saved', { id, version: res.data.version }));
    };
    const cols = [
      { key: 'id', label: 'col.id' },
      { key: 'name', label: 'col.name', fmt: itemName, raw: itemName },
      { key: 'category', label: 'col.category', fmt: (it) => t('cat.' + it.category) },
      { key: 'price', label: 'col.price', num: true, fmt: (it) => fmtNum(it.price) },
      { key: 'tier', label: 'col.tier' },
      {
        key: 'stock_per_day', label: 'col.stock', num: true,
        fmt: (it) => canEdit
          ? h('input', { type: 'number', min: 0, 'aria-label': t('col.stock') + ' ' + it.id, 'data-stock': it.id, value: it.stock_per_day || 0 })
          : (it.stock_per_day ? fmtNum(it.stock_per_day) : t('unlimited')),
      },
      {
        key: 'limit_per_day', label: 'col.limit', num: true,
        fmt: (it) => canEdit
          ? h('input', { type: 'number', min: 0, 'aria-label': t('col.limit') + ' ' + it.id, 'data-limit': it.id, value: it.limit_per_day || 0 })
          : (it.limit_per_day ? fmtNum(it.limit_per_day) : t('unlimited')),
      },
      {
        key: 'enabled', label: 'col.state', raw: (it) => (it.enabled === false ? 'off' : 'on'),
        fmt: (it) => h('span', { class: 'badge ' + (it.enabled === false ? 'bad' : 'good'), text: it.enabled === false ? t('catalog.off') : t('catalog.on') }),
      },
    ];
    if (canEdit) {
      cols.push({
        key: 'actions', label: 'col.actions', raw: () => '',
        fmt: (it) => h('span', { class: 'row' },
          h('button', { type: 'button', 'data-save': it.id, text: t('save'), on: { click: () => {
            const st = Number(document.querySelector(`[data-stock="${it.id}"]`).value);
            const li = Number(document.querySelector(`[data-limit="${it.id}"]`).value);
            patch(it.id, { stock_per_day: st, limit_per_day: li });
          } } }),
          it.enabled === false
            ? h('button', { type: 'button', class: 'secondary', 'data-revive': it.id, text: t('catalog.revive'), on: { click: () => patch(it.id, { kill: false }) } })
            : h('button', { type: 'button', class: 'danger', 'data-kill': it.id, text: t('catalog.kill'), on: { click: () => {
              if (confirm(t('catalog.kill.confirm', { id: it.id }))) patch(it.id, { kill: true });
            } } })),
      });
    }
    main.appendChild(dataTable('catalog.items', cols, items, 'catalogue.csv'));
    if (canEdit) main.appendChild(itemForm(doc, version));
    if (items.length) whatifPanel(main, view, whatifCatalogDraft(doc), 'catalog');
  };

  function itemForm(doc, version) {
    const f = {};
    const inp = (name, attrs) => (f[name] = h('input', Object.assign({ name }, attrs || {})));
    const form = h('form', { id: 'item-form', novalidate: true }, h('h2', { text: t('catalog.add') }));
    const cat = (f.category = h('select', { name: 'category' }, CATEGORIES.map((c) => h('option', { value: c, text: t('cat.' + c) }))));
    form.appendChild(h('fieldset', {}, h('legend', { text: t('catalog.item') }), h('div', { class: 'row' },
      field('col.id', inp('id', { required: true, maxlength: 31, pattern: '[A-Za-z0-9_.-]+' }), 'catalog.id.hint'),
      field('col.category', cat),
      field('col.price', inp('price', { type: 'number', min: 1, required: true })),
      field('col.tier', inp('tier', { value: 'standard', required: true })),
      field('col.stock', inp('stock', { type: 'number', min: 0, value: 0 }), 'catalog.zero.hint'),
      field('col.limit', inp('limit', { type: 'number', min: 0, value: 1 })),
      field('catalog.from', inp('valid_from', { type: 'date', value: todayIso() })),
      field('catalog.to', inp('valid_to', { type: 'date' })))));
    form.appendChild(h('fieldset', {}, h('legend', { text: t('catalog.names') }), h('div', { class: 'row' },
      ITEM_LANGS.map((l) => field('catalog.name.' + l, inp('name_' + l, { required: true, maxlength: 60, dir: l === 'ar' || l === 'fa' ? 'rtl' : 'ltr' }))))));
    form.appendChild(h('fieldset', {}, h('legend', { text: t('catalog.descriptions') }), h('div', { class: 'row' },
      ITEM_LANGS.map((l) => field('catalog.desc.' + l, inp('desc_' + l, { required: true, maxlength: 240, dir: l === 'ar' || l === 'fa' ? 'rtl' : 'ltr' }))))));
    const ftype = (f.ftype = h('select', { name: 'ftype' }, ['provisioning', 'voucher', 'charity'].map((x) => h('option', { value: x, text: t('fulfil.' + x) }))));
    form.appendChild(h('fieldset', {}, h('legend', { text: t('catalog.fulfil') }), h('div', { class: 'row' },
      field('catalog.fulfil.type', ftype),
      field('catalog.fulfil.kind', inp('kind', { value: 'data' }), 'catalog.fulfil.kind.hint'),
      field('catalog.fulfil.quantity', inp('quantity', { type: 'number', min: 1, value: 1 })),
      field('catalog.fulfil.unit', inp('unit', { value: 'MB' })),
      field('catalog.fulfil.pool', inp('pool', {})),
      field('catalog.fulfil.cause', inp('cause', {})))));
    const today = todayIso();
    const ver = inp('catversion', { value: today + '.w' + (version + 1), maxlength: 31 });
    form.appendChild(field('catalog.newversion', ver, 'catalog.newversion.hint'));
    form.appendChild(h('button', { type: 'submit', id: 'add-item', text: t('catalog.addbutton') }));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const names = {}, descs = {};
      ITEM_LANGS.forEach((l) => { names[l] = f['name_' + l].value.trim(); descs[l] = f['desc_' + l].value.trim(); });
      const item = {
        id: f.id.value.trim(), category: cat.value, names, descriptions: descs,
        price: Number(f.price.value), tier: f.tier.value.trim(),
      };
      if (Number(f.stock.value) > 0) item.stock_per_day = Number(f.stock.value);
      if (Number(f.limit.value) > 0) item.limit_per_day = Number(f.limit.value);
      if (f.valid_from.value) item.valid_from = f.valid_from.value;
      if (f.valid_to.value) item.valid_to = f.valid_to.value;
      item.enabled = true;
      if (ftype.value === 'provisioning') {
        item.fulfil = { type: 'provisioning', kind: f.kind.value.trim(), quantity: Number(f.quantity.value), unit: f.unit.value.trim() };
      } else if (ftype.value === 'voucher') {
        item.fulfil = { type: 'voucher', pool: f.pool.value.trim() };
      } else {
        item.fulfil = { type: 'charity', cause: f.cause.value.trim() };
      }
      if ((doc.items || []).some((x) => x.id === item.id)) { alarm(t('catalog.exists', { id: item.id })); return; }
      const next = Object.assign({}, doc, { version: ver.value.trim(), items: (doc.items || []).concat([item]) });
      const res = await api('PUT', '/api/catalog', { version, document: next });
      if (!res.ok) { if (res.status === 409) alarm(t('doc.stale')); else apiError(res); return; }
      await route();
      say(t('catalog.added', { id: item.id, version: res.data.version }));
    });
    return form;
  }

  // ------------------------------------------------------------------ subscriber
  VIEWS.subscriber = async function (main, arg, view) {
    const canEdit = S.role === 'care';
    main.appendChild(h('h1', { text: t('subscriber.title') }));
    const msisdn = h('input', { name: 'msisdn', inputmode: 'numeric', pattern: '[0-9]{8,15}', value: arg || '', required: true, dir: 'ltr' });
    const search = h('form', { class: 'row', role: 'search', novalidate: true },
      field('subscriber.msisdn', msisdn, 'subscriber.msisdn.hint'),
      h('button', { type: 'submit', text: t('subscriber.open') }));
    search.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = msisdn.value.replace(/[\s+]/g, '');
      if (!/^[0-9]{8,15}$/.test(v)) { alarm(t('subscriber.bad')); return; }
      go('subscriber', v);
    });
    main.appendChild(search);
    if (!arg) return;
    const r = await api('GET', '/api/subscribers/' + encodeURIComponent(arg));
    if (!live(view)) return;
    if (r.status === 404) { alarm(t('subscriber.notfound')); return; }
    if (!r.ok) { apiError(r); return; }
    const d = r.data;
    const card = (k, v, id) => h('li', { class: 'card' }, h('span', { class: 'k', text: t(k) }), h('span', { class: 'v', id, text: v }));
    main.appendChild(h('h2', { text: t('subscriber.wallet', { msisdn: d.msisdn }) }));
    main.appendChild(h('ul', { class: 'cards' },
      card('subscriber.balance', fmtNum(d.balance), 'sub-balance'),
      card('subscriber.lifetime', fmtNum(d.lifetime)),
      d.held ? card('subscriber.held', fmtNum(d.held), 'sub-held') : null,
      card('subscriber.tier', d.tier || '-', 'sub-tier'),
      card('subscriber.state', d.blocked ? t('subscriber.blocked') : t('subscriber.active'), 'sub-state'),
      card('subscriber.since', d.since ? fmtTime(d.since) : '-')));
    main.appendChild(dataTable('subscriber.lots', [
      { key: 'date', label: 'col.earned', fmt: (o) => o.date || '-' },
      { key: 'points', label: 'col.points', num: true, fmt: (o) => fmtNum(o.points) },
      { key: 'expires', label: 'col.expires', fmt: (o) => o.expires || t('never') },
    ], d.lots || [], 'lots-' + d.msisdn + '.csv'));

    // The consent panel needs a request of its own: its place is kept, and the history and
    // redemptions are drawn now, with the wallet they come from, not after that request.
    const consentSlot = h('div', {});
    if (canEdit) {
      main.appendChild(careForms(d));
      main.appendChild(consentSlot);
    }

    main.appendChild(dataTable('subscriber.history', [
      { key: 'at', label: 'col.when', fmt: (o) => fmtTime(o.at) },
      { key: 'kind', label: 'col.kind' },
      { key: 'points', label: 'col.points', num: true, fmt: (o) => fmtNum(o.points) },
      { key: 'balance', label: 'col.balance', num: true, fmt: (o) => fmtNum(o.balance) },
      { key: 'rule', label: 'col.rule' },
      { key: 'ref', label: 'col.ref' },
    ], d.history || [], 'history-' + d.msisdn + '.csv'));
    main.appendChild(dataTable('subscriber.redemptions', [
      { key: 'at', label: 'col.when', fmt: (o) => fmtTime(o.at) },
      { key: 'item', label: 'col.item' },
      { key: 'price', label: 'col.price', num: true, fmt: (o) => fmtNum(o.price) },
      { key: 'gift_day', label: 'col.giftday' },
      { key: 'state', label: 'col.fulfilment', fmt: (o) => t('rstate.' + o.state) },
      { key: 'reference', label: 'col.reference' },
      { key: 'reason', label: 'col.reason' },
    ], d.redemptions || [], 'redemptions-' + d.msisdn + '.csv', 'subscriber.noredemptions'));
    if (canEdit) {
      const consent = await consentPanel(d.msisdn);
      if (!live(view)) return;
      if (consent) consentSlot.appendChild(consent);
    }
  };

  function careForms(d) {
    const wrap = h('div', {});
    let rid = requestId();
    const pts = h('input', { name: 'points', type: 'number', step: 1, required: true });
    const reason = h('textarea', { name: 'reason', rows: 2, cols: 40, required: true, maxlength: 200 });
    const adj = h('form', { id: 'adjust-form', novalidate: true },
      h('fieldset', {}, h('legend', { text: t('adjust.title') }),
        h('div', { class: 'row' }, field('adjust.points', pts, 'adjust.points.hint'), field('adjust.reason', reason, 'adjust.reason.hint')),
        h('button', { type: 'submit', text: t('adjust.submit') })));
    adj.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const p = Number(pts.value);
      if (!Number.isInteger(p) || p === 0) { alarm(t('adjust.badpoints')); pts.focus(); return; }
      if (reason.value.trim().length < 3) { alarm(t('adjust.needreason')); reason.focus(); return; }
      const res = await api('POST', '/api/subscribers/' + d.msisdn + '/adjust', { points: p, reason: reason.value.trim(), request_id: rid });
      if (!res.ok) { apiError(res); return; } // the same request id on retry: never twice
      rid = requestId();
      await route();
      say(t('adjust.done', { points: fmtNum(res.data.points), balance: fmtNum(res.data.balance) }));
    });
    wrap.appendChild(adj);
    const why = h('input', { name: 'block-reason', maxlength: 200 });
    const blk = h('form', { id: 'block-form', novalidate: true },
      h('fieldset', {}, h('legend', { text: d.blocked ? t('unblock.title') : t('block.title') }),
        field('block.reason', why),
        h('button', { type: 'submit', class: d.blocked ? null : 'danger', text: d.blocked ? t('unblock.submit') : t('block.submit') })));
    blk.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = why.value.trim() ? { reason: why.value.trim() } : {};
      const res = await api('POST', '/api/subscribers/' + d.msisdn + (d.blocked ? '/unblock' : '/block'), body);
      if (!res.ok) { apiError(res); return; }
      await route();
      say(d.blocked ? t('unblock.done') : t('block.done'));
    });
    wrap.appendChild(blk);
    if (d.held) wrap.appendChild(holdForm(d)); // points held by the velocity caps
    return wrap;
  }

  // Points held by the velocity caps (issue 10 section 5): care releases them (credited) or
  // cancels them, with a reason; the API consumes the whole hold once and audits it.
  function holdForm(d) {
    const why = h('input', { name: 'hold-reason', id: 'hold-reason', maxlength: 200 });
    const act = (action) => async () => {
      if (why.value.trim().length < 3) { alarm(t('adjust.needreason')); why.focus(); return; }
      const res = await api('POST', '/api/subscribers/' + d.msisdn + '/hold', { action, reason: why.value.trim() });
      if (!res.ok) { apiError(res); return; }
      await route();
      say(t('hold.done.' + action, { points: fmtNum(res.data.points), balance: fmtNum(res.data.balance) }));
    };
    return h('form', { id: 'hold-form', novalidate: true, on: { submit: (ev) => ev.preventDefault() } },
      h('fieldset', {}, h('legend', { text: t('hold.title', { points: fmtNum(d.held) }) }),
        field('block.reason', why),
        h('button', { type: 'button', id: 'hold-release', text: t('hold.release'), on: { click: act('release') } }),
        h('button', { type: 'button', id: 'hold-cancel', class: 'danger', text: t('hold.cancel'), on: { click: act('cancel') } })));
  }

  // The subscriber's two consent switches (care only): marketing SMS (STOP/START, the reminder
  // audience) and the points-expiry warnings (a service message with its own switch). Each shows
  // its state and who changed it last, when and through which channel, and a button to change it.
  async function consentPanel(msisdn) {
    const r = await api('GET', '/api/subscribers/' + msisdn + '/optin');
    if (!r.ok) { apiError(r); return null; }
    const c = r.data, rec = c.record || {};
    const last = (at, channel, by) => at
      ? t('consent.changed', { when: fmtTimeMs(at), channel: t('consent.channel.' + channel), by: by || '-' })
      : t('consent.default');
    const row = (id, key, on, lastText, path) => {
      const btn = h('button', { type: 'button', id: id + '-toggle', class: on ? 'secondary' : null,
        text: t(on ? 'consent.turnoff' : 'consent.turnon') });
      btn.addEventListener('click', async () => {
        const res = await api('POST', '/api/subscribers/' + msisdn + path(!on), {});
        if (!res.ok) { apiError(res); return; }
        await route();
        say(t('consent.done'));
      });
      return h('tr', {},
        h('th', { scope: 'row', text: t(key) }),
        h('td', { id: id + '-state', text: t(on ? 'consent.on' : 'consent.off') }),
        h('td', { text: lastText }),
        h('td', {}, btn));
    };
    return h('fieldset', { id: 'consent' }, h('legend', { text: t('consent.title') }),
      h('table', {}, h('tbody', {},
        row('consent-marketing', 'consent.marketing', c.optin, last(rec.at_ms, rec.channel, rec.by), (v) => (v ? '/optin' : '/optout')),
        row('consent-alerts', 'consent.alerts', c.alerts, last(rec.alerts_at_ms, rec.alerts_channel, rec.alerts_by), (v) => (v ? '/alerts/on' : '/alerts/off')))));
  }

  // ------------------------------------------------------------------ dead letters, audit
  function streamView(titleKey, path, cols, csvName) {
    return async function (main, arg, view) {
      main.appendChild(h('h1', { text: t(titleKey) }));
      const holder = h('div', {});
      main.appendChild(holder);
      const pages = [];
      const load = async (before) => {
        const r = await api('GET', path + '?count=50' + (before ? '&before=' + encodeURIComponent(before) : ''));
        if (!live(view)) return;
        if (!r.ok) { apiError(r); return; }
        pages.push(r.data.items || []);
        holder.textContent = '';
        holder.appendChild(dataTable(titleKey + '.caption', cols, pages.flat(), csvName));
        if (r.data.next) {
          holder.appendChild(h('button', { type: 'button', class: 'secondary', text: t('more'), on: { click: () => load(r.data.next) } }));
        }
      };
      await load(null);
    };
  }
  VIEWS.deadletters = streamView('deadletters.title', '/api/deadletters', [
    { key: 'id', label: 'col.id' },
    { key: 'at', label: 'col.when', fmt: (o) => fmtTimeMs(o.at) },
    { key: 'stream', label: 'col.stream' },
    { key: 'source', label: 'col.source' },
    { key: 'reason', label: 'col.reason' },
    { key: 'raw', label: 'col.raw' },
  ], 'deadletters.csv');
  VIEWS.audit = streamView('audit.title', '/api/audit', [
    { key: 'at', label: 'col.when', fmt: (o) => fmtTimeMs(o.at) },
    { key: 'who', label: 'col.who' },
    { key: 'role', label: 'col.role' },
    { key: 'what', label: 'col.what' },
    { key: 'target', label: 'col.target' },
    { key: 'before', label: 'col.before', fmt: (o) => JSON.stringify(o.before) },
    { key: 'after', label: 'col.after', fmt: (o) => JSON.stringify(o.after) },
    { key: 'ip', label: 'col.ip' },
  ], 'audit.csv');

  // ------------------------------------------------------------------ live board
  VIEWS.board = async function (main, arg, view) {
    main.appendChild(h('h1', { text: t('board.title') }));
    const day = h('input', { type: 'date', id: 'board-day', value: arg || '' });
    const ctl = h('form', { class: 'row', novalidate: true }, field('board.day', day, 'board.day.hint'),
      h('button', { type: 'submit', text: t('board.show') }));
    ctl.addEventListener('submit', (ev) => { ev.preventDefault(); go('board', day.value); });
    main.appendChild(ctl);
    const stamp = h('p', { class: 'note', id: 'board-updated', 'aria-live': 'off' });
    const body = h('div', { id: 'board-body' });
    main.appendChild(stamp);
    main.appendChild(body);
    const tick = async () => {
      const r = await api('GET', '/api/board' + (arg ? '?day=' + encodeURIComponent(arg) : ''));
      if (!live(view)) return;
      if (!r.ok) { apiError(r); } else { drawBoard(body, r.data); stamp.textContent = t('board.updated', { at: fmtTimeMs(Date.now()), every: BOARD_REFRESH_MS / 1000 }); }
      // Refresh while the board is shown; paused while the tab is hidden (no load for nobody).
      S.timer = setTimeout(function again() {
        if (!live(view)) return;
        if (document.hidden) { S.timer = setTimeout(again, BOARD_REFRESH_MS); return; }
        tick();
      }, BOARD_REFRESH_MS);
    };
    await tick();
  };

  function drawBoard(body, b) {
    body.textContent = '';
    const total = (b.per_minute || []).reduce((a, x) => a + x.count, 0);
    const last = (b.per_minute || []).slice(-1)[0];
    const card = (k, v, id) => h('li', { class: 'card' }, h('span', { class: 'k', text: t(k) }), h('span', { class: 'v', id, text: v }));
    body.appendChild(h('ul', { class: 'cards' },
      card('board.giftday', isolate(b.day) + (b.open_now ? ' · ' + t('board.open') : ' · ' + t('board.closed')), 'board-giftday'),
      card('board.lastminute', last ? fmtNum(last.count) : '0', 'board-rate'),
      card('board.total15', fmtNum(total)),
      card('board.pending', fmtNum(b.fulfilment.pending || 0), 'board-pending'),
      card('board.refunded', fmtNum(b.fulfilment.refunded || 0), 'board-refunded')));
    if (b.catalog !== 'stored') body.appendChild(h('p', { class: 'na', text: t('board.nocatalog') }));
    if (!b.fulfilment.stream_exists) body.appendChild(h('p', { class: 'na', text: t('board.nostream') }));
    if (b.per_minute_capped) body.appendChild(h('p', { class: 'na', text: t('board.capped') }));
    const minute = new Intl.DateTimeFormat(LOCALE[S.lang], { hour: '2-digit', minute: '2-digit' });
    chart(body, {
      id: 'board-rate', title: t('board.chart'), short: true,
      labels: (b.per_minute || []).map((x) => minute.format(new Date(x.minute))),
      series: [{ name: t('board.redemptions'), values: (b.per_minute || []).map((x) => x.count) }],
      xTitle: t('chart.axis.minute'), yTitle: t('chart.axis.redemptions'),
    });
    const rows = b.items || [];
    body.appendChild(dataTable('board.items', [
      { key: 'id', label: 'col.id' },
      { key: 'name', label: 'col.name', fmt: itemName, raw: itemName },
      { key: 'stock_per_day', label: 'col.stock', num: true, fmt: (o) => (o.stock_per_day ? fmtNum(o.stock_per_day) : t('unlimited')) },
      { key: 'left', label: 'col.left', num: true, fmt: (o) => (o.left === null ? t('unlimited') : fmtNum(o.left)) },
      { key: 'paid', label: 'col.paid', num: true, raw: (o) => o.paid + o.queued, fmt: (o) => fmtNum(o.paid + o.queued) },
      { key: 'reserved', label: 'col.reserved', num: true, fmt: (o) => fmtNum(o.reserved) },
      { key: 'released', label: 'col.released', num: true, fmt: (o) => fmtNum(o.released) },
      { key: 'refunded', label: 'col.refundedfail', num: true, fmt: (o) => fmtNum(o.refunded) },
      { key: 'killed', label: 'col.state', raw: (o) => (o.killed || !o.enabled ? 'off' : 'on'),
        fmt: (o) => h('span', { class: 'badge ' + (o.killed || !o.enabled ? 'bad' : 'good'), text: o.killed || !o.enabled ? t('catalog.off') : t('catalog.on') }) },
    ], rows, 'board-' + b.day + '.csv', 'board.noitems'));
    if ((b.fulfilment.groups || []).length) {
      body.appendChild(dataTable('board.groups', [
        { key: 'group', label: 'col.group' },
        { key: 'consumers', label: 'col.consumers', num: true },
        { key: 'pending', label: 'col.pending', num: true },
      ], b.fulfilment.groups, 'fulfilment-groups.csv'));
    }
    body.appendChild(h('p', { class: 'note', text: t('board.explain') }));
  }

  // ------------------------------------------------------------------ reminder broadcasts
  // The SMS cost of a campaign text, counted as the API counts it (gw_campaign_text_check:
  // smpp/smpp_text.c with the default options), so marketing sees the cost while typing:
  // GSM 03.38 when every character is in its alphabet (extension characters cost two septets),
  // else UCS-2, where a character outside the BMP (an emoji) goes out as '?' (one unit);
  // 160 septets / 70 units fit one SMS, longer texts go in parts of 153 / 67 and a character is
  // never split across two parts; at most 8 parts and 1400 bytes of UTF-8. The API's answer on
  // creation is the authority; this counter only has to agree with it.
  // The basic table in septet order (TS 23.038 6.2.1) without 0x1B, the escape.
  const GSM7_BASIC = new Set(Array.from('@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
    '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà'));
  const GSM7_EXT = new Set(Array.from('\f^{}\\[~]|€')); // 6.2.1.1: escape + septet
  const SMS_LIMITS = { 'GSM-7': { single: 160, part: 153 }, 'UCS-2': { single: 70, part: 67 } };
  const CAMPAIGN_MAX_PARTS = 8;
  const CAMPAIGN_MAX_BYTES = 1400;
  const CAMPAIGN_LANGS = ITEM_LANGS; // the languages of the USSD menus, i.e. of the wallets
  const RUNNING = new Set(['scheduled', 'building', 'sending']);

  function smsCost(text) {
    const chars = Array.from(text); // code points (a lone surrogate stays one, not GSM: UCS-2)
    const r = { coding: 'GSM-7', units: 0, parts: 0, bytes: new TextEncoder().encode(text).length, odd: [], ext: false, astral: false, why: '' };
    for (const ch of chars) {
      const cp = ch.codePointAt(0);
      if ((cp < 0x20 && cp !== 0x0a && cp !== 0x0d) || cp === 0x7f) r.why = 'campaigns.why.control';
      if (GSM7_EXT.has(ch)) r.ext = true;
      else if (!GSM7_BASIC.has(ch)) { r.coding = 'UCS-2'; if (r.odd.length < 4 && !r.odd.includes(ch)) r.odd.push(ch); }
      if (cp > 0xffff) r.astral = true;
    }
    const gsm = r.coding === 'GSM-7';
    const costs = chars.map((ch) => (gsm && GSM7_EXT.has(ch) ? 2 : 1));
    r.units = costs.reduce((a, x) => a + x, 0);
    const lim = SMS_LIMITS[r.coding];
    if (r.units > 0 && r.units <= lim.single) r.parts = 1;
    else if (r.units > lim.single) {
      let used = 0;
      for (const c of costs) {
        if (r.parts === 0 || used + c > lim.part) { r.parts += 1; used = 0; }
        used += c;
      }
    }
    if (!r.why && r.bytes > CAMPAIGN_MAX_BYTES) r.why = 'campaigns.why.bytes';
    if (!r.why && r.parts > CAMPAIGN_MAX_PARTS) r.why = 'campaigns.why.parts';
    return r;
  }

  function drawCount(el, text) {
    const c = smsCost(text);
    el.textContent = '';
    el.className = 'counter' + (c.why ? ' bad' : '');
    el.setAttribute('data-coding', text ? c.coding : '');
    el.setAttribute('data-units', String(c.units));
    el.setAttribute('data-parts', String(c.parts));
    if (!text) { el.textContent = t('campaigns.count.empty'); return c; }
    const lim = SMS_LIMITS[c.coding];
    const lines = [c.parts <= 1
      ? t('campaigns.count.one', { coding: c.coding, units: fmtNum(c.units), max: fmtNum(lim.single) })
      : t('campaigns.count.many', { coding: c.coding, units: fmtNum(c.units), parts: fmtNum(c.parts), per: fmtNum(lim.part) })];
    // A Latin text pushed into UCS-2 by one typographic quote costs twice as many SMS: say which.
    if (c.coding === 'UCS-2' && c.odd.length && c.odd.length <= 3) lines.push(t('campaigns.count.because', { chars: c.odd.join(' ') }));
    if (c.coding === 'GSM-7' && c.ext) lines.push(t('campaigns.count.ext'));
    if (c.astral) lines.push(t('campaigns.count.astral'));
    if (c.why) lines.push(t(c.why, { max: CAMPAIGN_MAX_PARTS, bytes: CAMPAIGN_MAX_BYTES }));
    el.textContent = lines.join(' ');
    return c;
  }

  // Times of campaigns are the programme's local times: the stored calendar's zone (else the
  // browser's). The API converts them both ways (send_at + zone on creation, ?zone= on reads)
  // with the system's tzdata, the rules of the gateways and the calendar: the browser's own zone
  // data may disagree (Chromium's ICU and tzdata differ on Casablanca), so Intl is not used for it.
  function zoneOk(z) {
    return typeof z === 'string' && /^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/.test(z);
  }
  function fmtRate(x) {
    return t('campaigns.rate', { n: new Intl.NumberFormat(LOCALE[S.lang], { maximumFractionDigits: 1 }).format(x || 0) });
  }

  VIEWS.campaigns = async function (main, arg, view) {
    const canEdit = S.role === 'marketing';
    main.appendChild(h('h1', { text: t('campaigns.title') }));
    main.appendChild(h('p', { class: 'note', text: t('campaigns.explain') }));
    let zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (!zoneOk(zone)) zone = 'UTC';
    const cal = await api('GET', '/api/giftdays');
    if (!live(view)) return;
    const calZone = cal.ok && cal.data && cal.data.document ? cal.data.document.timezone : '';
    if (zoneOk(calZone)) zone = calZone;

    const stamp = h('p', { class: 'note', id: 'campaigns-updated', 'aria-live': 'off' });
    const body = h('div', { id: 'campaigns-body' });
    main.appendChild(h('section', { 'aria-labelledby': 'campaigns-list-h' },
      h('h2', { id: 'campaigns-list-h', text: t('campaigns.list') }),
      h('p', { class: 'note', text: t('campaigns.zone', { zone }) }), stamp, body));
    const shown = { key: '', rows: null };
    let gen = 0;
    const tick = async () => {
      const my = ++gen; // a refresh asked for (after a cancel) supersedes the one in flight
      const r = await api('GET', '/api/campaigns?zone=' + encodeURIComponent(zone));
      if (!live(view) || my !== gen) return;
      if (!r.ok) apiError(r);
      else {
        drawCampaigns(body, (r.data && r.data.campaigns) || [], shown, { canEdit, zone, refresh: tick });
        stamp.textContent = t('board.updated', { at: fmtTimeMs(Date.now()), every: CAMPAIGN_REFRESH_MS / 1000 });
      }
      // Refresh while the page is shown; paused while the tab is hidden (like the board).
      if (S.timer) clearTimeout(S.timer);
      S.timer = setTimeout(function again() {
        if (!live(view)) return;
        if (document.hidden) { S.timer = setTimeout(again, CAMPAIGN_REFRESH_MS); return; }
        tick();
      }, CAMPAIGN_REFRESH_MS);
    };
    if (canEdit) main.appendChild(campaignForm(zone));
    else main.appendChild(h('p', { class: 'note', text: t('campaigns.readonly') }));
    await tick();
  };

  // The figures that move while a campaign runs: updated in place between two redraws, so a
  // keyboard user's focus (on a Cancel button) and a screen reader's position survive a refresh.
  const LIVE_CELLS = {
    total: (c) => fmtNum(c.total || 0),
    sent: (c) => fmtNum(c.sent || 0),
    failed: (c) => fmtNum(c.failed || 0),
    unknown: (c) => fmtNum(c.unknown || 0),
    skipped: (c) => fmtNum(c.skipped || 0),
    rate: (c) => fmtRate(c.rate),
    progress_pct: (c) => fmtPct((c.progress_pct || 0) / 100),
  };
  function liveCell(key, c) {
    const span = h('span', { 'data-cell': key, 'data-id': c.id, 'data-value': String(c[key] || 0), text: LIVE_CELLS[key](c) });
    if (key !== 'progress_pct') return span;
    const bar = h('progress', { max: 100, value: c.progress_pct || 0, 'aria-hidden': 'true', 'data-bar': c.id });
    return h('span', { class: 'progress' }, bar, span);
  }

  function drawCampaigns(body, list, shown, o) {
    // Same campaigns in the same states: only the figures changed.
    const key = S.lang + '|' + list.map((c) => [c.id, c.state, c.send_at || ''].join(':')).join('|');
    if (shown.rows && shown.key === key) {
      shown.rows.splice(0, shown.rows.length, ...list); // the CSV button exports these rows
      const byId = new Map(list.map((c) => [c.id, c]));
      body.querySelectorAll('[data-cell]').forEach((el) => {
        const c = byId.get(el.getAttribute('data-id'));
        const k = el.getAttribute('data-cell');
        if (!c) return;
        el.textContent = LIVE_CELLS[k](c);
        el.setAttribute('data-value', String(c[k] || 0));
      });
      body.querySelectorAll('progress[data-bar]').forEach((el) => {
        const c = byId.get(el.getAttribute('data-bar'));
        if (c) el.value = c.progress_pct || 0;
      });
      return;
    }
    shown.key = key;
    shown.rows = list.slice();
    const stateBadge = (c) => h('span', {
      class: 'badge ' + (c.state === 'done' ? 'good' : c.state === 'cancelled' ? 'bad' : c.state === 'sending' ? 'live' : 'wait'),
      'data-state': c.id, text: t('bcstate.' + c.state),
    });
    const when = (c) => {
      if (c.when === 'next_opening' && !c.send_at) return t('campaigns.nextopening.pending');
      return (c.send_at_local || '') + (c.when === 'next_opening' ? ' · ' + t('campaigns.nextopening.short') : '');
    };
    const langs = (c) => Object.keys(c.texts || {}).map((l) => (l === c.default_lang ? t('campaigns.deflang', { lang: l }) : l)).join(', ');
    const cols = [
      { key: 'id', label: 'col.id' },
      { key: 'state', label: 'col.state', fmt: stateBadge },
      { key: 'send_at', label: 'campaigns.col.sendat', fmt: when,
        raw: (c) => (c.send_at ? new Date(c.send_at * 1000).toISOString() : c.when) },
      { key: 'texts', label: 'campaigns.col.texts', fmt: langs },
    ];
    cols.push(...['total', 'sent', 'failed', 'unknown', 'skipped', 'rate'].map((k) => ({
      key: k, label: 'campaigns.col.' + k, num: true, fmt: (c) => liveCell(k, c),
    })));
    cols.push({ key: 'progress_pct', label: 'campaigns.col.progress', num: true, fmt: (c) => liveCell('progress_pct', c),
      raw: (c) => Number(c.progress_pct || 0).toFixed(1) });
    cols.push({ key: 'by', label: 'campaigns.col.by' });
    cols.push({ key: 'created_ms', label: 'campaigns.col.created', fmt: (c) => fmtTimeMs(c.created_ms) });
    if (o.canEdit) {
      cols.push({
        key: 'actions', label: 'col.actions', raw: () => '',
        fmt: (c) => (RUNNING.has(c.state)
          ? h('button', { type: 'button', class: 'danger', 'data-cancel': c.id, text: t('campaigns.cancel'),
            'aria-label': t('campaigns.cancel.label', { id: c.id }), on: { click: () => cancelCampaign(c.id, o.refresh) } })
          : ''),
      });
    }
    body.textContent = '';
    body.appendChild(dataTable('campaigns.caption', cols, shown.rows, 'campaigns.csv', 'campaigns.none'));
  }

  async function cancelCampaign(id, refresh) {
    if (!confirm(t('campaigns.cancel.confirm', { id }))) return;
    const res = await api('POST', '/api/campaigns/' + encodeURIComponent(id) + '/cancel', {});
    if (!res.ok) {
      if (res.status === 409) alarm(t('campaigns.cancel.late', { id }));
      else apiError(res);
    } else {
      say(t('campaigns.cancelled', { id }));
    }
    await refresh();
  }

  function campaignForm(zone) {
    const form = h('form', { id: 'campaign-form', novalidate: true }, h('h2', { text: t('campaigns.new') }));
    const cid = h('input', { name: 'id', required: true, maxlength: 32, pattern: '[a-z0-9][a-z0-9_-]*', value: 'giftday-' + todayIso(), dir: 'ltr', autocomplete: 'off' });
    form.appendChild(field('campaigns.id', cid, 'campaigns.id.hint'));

    const texts = {};
    const tfs = h('fieldset', {}, h('legend', { text: t('campaigns.texts') }), h('p', { class: 'note', text: t('campaigns.texts.hint') }));
    const dl = h('select', { name: 'default_lang' }, CAMPAIGN_LANGS.map((l) => h('option', { value: l, text: t('language.' + l) })));
    dl.value = 'fr';
    for (const l of CAMPAIGN_LANGS) {
      const ta = h('textarea', { id: nextId('text'), name: 'text_' + l, rows: 3, cols: 60, lang: l, dir: l === 'ar' || l === 'fa' ? 'rtl' : 'ltr', maxlength: 2000 });
      const cnt = h('p', { class: 'counter', id: nextId('count'), 'data-counter': l });
      ta.setAttribute('aria-describedby', cnt.id);
      // Counted on every keystroke (and paste): the cost is seen before the text is finished.
      ta.addEventListener('input', () => drawCount(cnt, ta.value.trim()));
      drawCount(cnt, '');
      texts[l] = ta;
      tfs.appendChild(h('div', { class: 'field text-field' }, h('label', { for: ta.id, text: t('campaigns.text', { lang: t('language.' + l) }) }), ta, cnt));
    }
    tfs.appendChild(field('campaigns.default', dl, 'campaigns.default.hint'));
    form.appendChild(tfs);

    // When: the next gift-day opening (resolved by a gateway from its calendar), now, or a local time.
    const wfs = h('fieldset', { class: 'choices' }, h('legend', { text: t('campaigns.when') }));
    const radios = {};
    for (const w of ['next_opening', 'now', 'at']) {
      radios[w] = h('input', { type: 'radio', name: 'when', value: w, id: nextId('when'), checked: w === 'next_opening' });
      wfs.appendChild(h('div', { class: 'choice' }, radios[w], h('label', { for: radios[w].id, text: t('campaigns.when.' + w) })));
    }
    const at = h('input', { type: 'datetime-local', name: 'at', disabled: true });
    Object.values(radios).forEach((r) => r.addEventListener('change', () => { at.disabled = !radios.at.checked; }));
    wfs.appendChild(field('campaigns.at', at, null));
    wfs.appendChild(h('p', { class: 'note', text: t('campaigns.zone', { zone }) }));
    form.appendChild(wfs);
    form.appendChild(h('button', { type: 'submit', id: 'create-campaign', text: t('campaigns.create') }));

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const id = cid.value.trim();
      if (!/^[a-z0-9][a-z0-9_-]{0,31}$/.test(id)) { alarm(t('campaigns.badid')); cid.focus(); return; }
      const body = { id, texts: {} };
      for (const l of CAMPAIGN_LANGS) {
        const v = texts[l].value.trim();
        if (!v) continue;
        const c = smsCost(v);
        if (c.why) { alarm(t('campaigns.badtext', { lang: t('language.' + l), why: t(c.why, { max: CAMPAIGN_MAX_PARTS, bytes: CAMPAIGN_MAX_BYTES }) })); texts[l].focus(); return; }
        body.texts[l] = v;
      }
      const langs = Object.keys(body.texts);
      if (!langs.length) { alarm(t('campaigns.notext')); texts[CAMPAIGN_LANGS[0]].focus(); return; }
      if (langs.length === 1) body.default_lang = langs[0];
      else if (body.texts[dl.value]) body.default_lang = dl.value;
      else { alarm(t('campaigns.baddefault')); dl.focus(); return; }
      let whenText;
      if (radios.now.checked) { body.send_at = 'now'; whenText = t('campaigns.when.now'); }
      else if (radios.at.checked) {
        if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(at.value)) { alarm(t('campaigns.badtime', { zone })); at.focus(); return; }
        // A wall-clock time in the programme's zone: the API turns it into an instant (tzdata).
        body.send_at = at.value;
        body.zone = zone;
        whenText = at.value.replace('T', ' ') + ' (' + zone + ')';
      } else { body.send_at = 'next_opening'; whenText = t('campaigns.when.next_opening'); }
      if (!confirm(t('campaigns.confirm', { id, when: whenText }))) return;
      // The id makes a retry safe: the same body again is answered 200 (a replay), never twice.
      const res = await api('POST', '/api/campaigns', body);
      if (!res.ok) {
        const d = res.data || {};
        if (res.status === 409) alarm(t('campaigns.exists', { id }));
        else if (res.status === 400 && d.field === 'send_at' && radios.at.checked) {
          alarm(t(/skip/.test(d.error || '') ? 'campaigns.badtime' : 'campaigns.past', { zone }));
          at.focus();
        } else apiError(res);
        return;
      }
      const info = Object.entries(res.data.texts || {}).map(([l, x]) => t('campaigns.textinfo', { lang: l, coding: x.coding, units: fmtNum(x.units), parts: fmtNum(x.parts) })).join('; ');
      await route();
      say(t(res.status === 201 ? 'campaigns.created' : 'campaigns.replayed', { id, info }));
    });
    return form;
  }

  // ------------------------------------------------------------------ the loyalty table
  // The stored document cfg:{adm}:loyalty (issue 12): what every gateway earns by. A summary
  // (tiers by their names in the viewer's language, rates, cap) and the document itself as JSON,
  // which marketing edits; the API checks it with the gateway's own parser (422 names the key).
  // A stored document edited as JSON (the loyalty table, the USSD menus): "In force" with its
  // version and the gateways', an optional summary, the document in a left-to-right editor, Save
  // with the version it started from (409: someone else saved first).
  async function docEditor(main, view, o) {
    const canEdit = S.role === 'marketing';
    main.appendChild(h('h1', { text: t(o.id + '.title') }));
    const r = await api('GET', o.path);
    if (!live(view)) return;
    if (!r.ok) { apiError(r); return; }
    const version = r.data.version;
    const doc = r.data.document;
    main.appendChild(h('p', { class: 'note', id: o.id + '-version', text: version
      ? t('doc.version', { version, by: r.data.updated_by || '-', at: fmtTimeMs(r.data.updated_at) })
      : t(o.id + '.none') }));
    main.appendChild(gatewaysNote(r.data));
    if (doc && o.summary) o.summary(main, doc);
    const ta = h('textarea', { id: o.id + '-doc', name: 'document', rows: 24, cols: 90, dir: 'ltr', spellcheck: 'false', readonly: !canEdit || null });
    ta.value = JSON.stringify(doc || {}, null, 2);
    const form = h('form', { id: o.id + '-form', novalidate: true }, field(o.id + '.document', ta, o.id + '.document.hint'));
    if (canEdit) {
      form.appendChild(h('button', { type: 'submit', id: 'save-' + o.id, text: t('save') }));
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        let next;
        try { next = JSON.parse(ta.value); } catch (e) { alarm(t('doc.notjson', { why: e.message })); ta.focus(); return; }
        const res = await api('PUT', o.path, { version, document: next });
        if (!res.ok) {
          if (res.status === 409) alarm(t('doc.stale'));
          else apiError(res);
          return;
        }
        await route();
        say(t(o.id + '.saved', { version: res.data.version }));
      });
    }
    main.appendChild(form);
    if (o.after) o.after(main, ta, view);
  }

  // ------------------------------------------------------------------ what-if (issue 12 §2)
  // Replays the journaled events of the last N days under the draft in the editor, in a worker
  // process (POST /api/whatif), polled every 500 ms for its progress bar, then shows the draft
  // side by side with the table in force. MSISDNs come masked from the API. draft() gives the
  // body's drafts ({document} from the loyalty editor, {catalog} from the catalogue page), or
  // null when it cannot (it said why).
  function whatifPanel(main, view, draft, kind) {
    if (S.role !== 'marketing') return;
    const days = h('input', { id: 'whatif-days', name: 'days', type: 'number', min: 1, max: 400, value: 7 });
    const bar = h('progress', { id: 'whatif-progress', max: 100, value: 0, hidden: true, 'aria-label': t('whatif.progress') });
    const out = h('div', { id: 'whatif-result' });
    const run = h('button', { type: 'submit', id: 'whatif-run', text: t('whatif.run') });
    const form = h('form', { id: 'whatif-form', novalidate: true },
      h('h2', { text: t('whatif.title') }), h('p', { class: 'note', text: t({ catalog: 'whatif.cat.intro', campaigns: 'whatif.camp.intro' }[kind] || 'whatif.intro') }),
      kind === 'catalog' ? whatifPrices(draft.items) : null, field('whatif.days', days), run, bar, out);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = draft.body();
      if (!body) return;
      const res = await api('POST', '/api/whatif', Object.assign(body, { days: Number(days.value) || 7 }));
      if (!res.ok) { apiError(res); return; }
      run.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      out.textContent = '';
      say(t('whatif.running'));
      try {
        for (;;) {
          await new Promise((r) => setTimeout(r, 500));
          if (!live(view)) return;
          const r = await api('GET', '/api/whatif/' + encodeURIComponent(res.data.id));
          if (!r.ok) { apiError(r); return; }
          bar.value = r.data.progress || 0;
          if (r.data.state === 'running') continue;
          if (r.data.state === 'failed') { alarm(t('whatif.failed', { why: r.data.error || '' })); return; }
          if (kind === 'catalog') whatifCatResult(out, r.data.result);
          else if (kind === 'campaigns') whatifCampResult(out, r.data.result);
          else whatifResult(out, r.data.result);
          say(t('whatif.done', { events: fmtNum(r.data.result.events), subs: fmtNum(r.data.result.subscribers) }));
          return;
        }
      } finally {
        run.disabled = false;
      }
    });
    main.appendChild(form);
  }

  // The ten subscribers whose result changes most: [{msisdn (masked), base, draft}], each side's
  // figure and the signed change (its own direction: "+12" in the Arabic page too).
  function changesTable(captionKey, list, csvName, emptyKey) {
    const signed = (v) => h('span', { dir: 'ltr', text: (v > 0 ? '+' : '') + fmtNum(v) });
    return dataTable(captionKey, [
      { key: 'msisdn', label: 'whatif.col.msisdn', fmt: (r) => h('span', { dir: 'ltr', text: r.msisdn }), raw: (r) => r.msisdn },
      { key: 'base', label: 'whatif.col.base', num: true, fmt: (r) => fmtNum(r.base) },
      { key: 'draft', label: 'whatif.col.draft', num: true, fmt: (r) => fmtNum(r.draft) },
      { key: 'diff', label: 'whatif.col.diff', num: true, fmt: (r) => signed(r.draft - r.base), raw: (r) => r.draft - r.base },
    ], list || [], csvName, emptyKey);
  }

  // The top-20 % share and members per tier of both sides (the table's what-if and the
  // campaigns', which loyaltyctl computes with the same rule): rows of the comparison table.
  function spreadRows(b, d) {
    const rows = [{ key: 'top20', a: fmtPct(b.top20_share), z: fmtPct(d.top20_share), diff: null }];
    const names = [...new Set([...Object.keys(b.tiers || {}), ...Object.keys(d.tiers || {})])];
    for (const n of names) {
      const x = (b.tiers || {})[n], y = (d.tiers || {})[n];
      rows.push({ key: 'tier', tier: n, a: x === undefined ? '-' : fmtNum(x), z: y === undefined ? '-' : fmtNum(y),
        diff: (y || 0) - (x || 0) });
    }
    return rows;
  }
  function spreadLabel(r) {
    if (r.key === 'tier') return t('whatif.members', { tier: tierName(r.tier) });
    return r.key === 'top20' ? t('whatif.row.top20') : null;
  }

  function whatifResult(out, res) {
    const b = res.base, d = res.draft;
    const money = (side) => (res.point_value_micro && res.currency
      ? fmtMoney(side.net, res.point_value_micro, res.currency) : fmtNum(side.net));
    const rows = [
      { key: 'issued', a: fmtNum(b.issued), z: fmtNum(d.issued), diff: d.issued - b.issued },
      { key: 'reversed', a: fmtNum(b.reversed), z: fmtNum(d.reversed), diff: d.reversed - b.reversed },
      { key: 'capped', a: fmtNum(b.capped), z: fmtNum(d.capped), diff: d.capped - b.capped },
      { key: 'liability', a: money(b), z: money(d), diff: d.net - b.net },
      ...spreadRows(b, d),
    ];
    const label = (r) => spreadLabel(r) || t('whatif.row.' + r.key);
    // a signed change stays "+12" in the Arabic page too (its own direction)
    const signed = (v) => (v === null ? '' : h('span', { dir: 'ltr', text: (v > 0 ? '+' : '') + fmtNum(v) }));
    out.appendChild(dataTable('whatif.compare', [
      { key: 'what', label: 'whatif.col.what', fmt: label, raw: (r) => (r.key === 'tier' ? 'tier:' + r.tier : r.key) },
      { key: 'a', label: 'whatif.col.base', num: true },
      { key: 'z', label: 'whatif.col.draft', num: true },
      { key: 'diff', label: 'whatif.col.diff', num: true, fmt: (r) => signed(r.diff), raw: (r) => r.diff },
    ], rows, 'whatif.csv'));
    out.appendChild(changesTable('whatif.top', res.top_changes, 'whatif-top.csv', 'whatif.nochange'));
    out.appendChild(h('p', { class: 'note', text: t('whatif.assumption', { from: String(res.from), to: String(res.to), recorded: fmtNum(res.recorded) }) }));
  }

  // The loyalty table (cfg:{adm}:loyalty, issue 12): what every gateway earns by; summarised
  // (tiers by their names in the viewer's language, rates, cap), checked by the gateway's parser.
  VIEWS.loyalty = (main, arg, view) => docEditor(main, view, {
    id: 'loyalty', path: '/api/loyalty',
    summary(m, doc) {
      m.appendChild(dataTable('loyalty.tiers', [
        { key: 'name', label: 'chart.axis.tier', fmt: (o) => tierName(o.name), raw: (o) => o.name },
        { key: 'min_points', label: 'loyalty.minpoints', num: true, fmt: (o) => fmtNum(o.min_points || 0) },
        { key: 'multiplier_pct', label: 'loyalty.multiplier', num: true, fmt: (o) => fmtNum(o.multiplier_pct || 100) + ' %' },
      ], doc.tiers || [], 'loyalty-tiers.csv'));
      m.appendChild(dataTable('loyalty.rates', [
        { key: 'kind', label: 'loyalty.kind' },
        { key: 'rule', label: 'loyalty.rule', fmt: (o) => t('loyalty.rate', { points: fmtNum(o.points), per: fmtNum(o.per) }), raw: (o) => o.points + '/' + o.per },
      ], Object.entries(doc.rates || {}).map(([kind, v]) => ({ kind, points: v.points, per: v.per })), 'loyalty-rates.csv'));
      m.appendChild(h('p', {}, t('loyalty.cap', { cap: doc.daily_cap ? fmtNum(doc.daily_cap) : t('unlimited'), zone: doc.timezone || '' })));
      // how tiers qualify (gateway/gw_tier.h): lifetime when absent
      const basis = doc.tier_basis || 'lifetime';
      m.appendChild(h('p', {}, basis === 'lifetime' ? t('loyalty.tiers.lifetime')
        : t('loyalty.tiers.rolling', { basis: t('loyalty.basis.' + basis), months: fmtNum(doc.tier_window_months || 12), grace: fmtNum(doc.tier_grace_days === undefined ? 30 : doc.tier_grace_days) })));
    },
    after: (m, ta, view) => whatifPanel(m, view, { body() {
      try { return { document: JSON.parse(ta.value) }; } catch (e) { alarm(t('doc.notjson', { why: e.message })); ta.focus(); return null; }
    } }),
  });

  // The catalogue's what-if: the draft is the catalogue in force with the prices typed here.
  function whatifPrices(items) {
    return dataTable('whatif.cat.prices', [
      { key: 'id', label: 'col.id' },
      { key: 'name', label: 'col.name', fmt: itemName, raw: itemName },
      { key: 'price', label: 'whatif.col.base', num: true, fmt: (it) => fmtNum(it.price) },
      { key: 'draft', label: 'whatif.col.draft', num: true, raw: (it) => it.price,
        fmt: (it) => h('input', { type: 'number', min: 1, 'data-draft-price': it.id, 'aria-label': t('whatif.cat.price', { id: it.id }), value: it.price }) },
    ], items, 'whatif-prices.csv');
  }
  function whatifCatalogDraft(doc) {
    return {
      items: doc.items || [],
      body() {
        const items = (doc.items || []).map((it) => {
          const inp = document.querySelector(`[data-draft-price="${it.id}"]`);
          return Object.assign({}, it, { price: inp ? Number(inp.value) : it.price });
        });
        return { catalog: Object.assign({}, doc, { version: (doc.version || 'draft') + '.whatif', items }) };
      },
    };
  }
  function whatifCatResult(out, res) {
    const c = res.catalog || {};
    const money = (v) => (res.point_value_micro && res.currency ? fmtMoney(v, res.point_value_micro, res.currency) : fmtNum(v));
    const signed = (v) => (v === null ? '' : h('span', { dir: 'ltr', text: (v > 0 ? '+' : '') + fmtNum(v) }));
    const rows = [
      { key: 'redemptions', a: fmtNum(c.redemptions), z: fmtNum(c.redemptions - c.gone), diff: c.gone ? -c.gone : 0 },
      { key: 'cost', a: fmtNum(c.spent), z: fmtNum(c.cost_draft), diff: c.cost_draft - (c.spent || 0) },
      { key: 'spent', a: fmtNum(c.spent), z: fmtNum(c.spent_draft), diff: c.spent_draft - c.spent },
      { key: 'refused', a: fmtNum(0), z: fmtNum(c.refused), diff: c.refused },
      { key: 'liability', a: '', z: money(c.spent - c.spent_draft), diff: null },
    ];
    out.appendChild(dataTable('whatif.compare', [
      { key: 'what', label: 'whatif.col.what', fmt: (r) => t('whatif.cat.' + r.key), raw: (r) => r.key },
      { key: 'a', label: 'whatif.col.base', num: true },
      { key: 'z', label: 'whatif.col.draft', num: true },
      { key: 'diff', label: 'whatif.col.diff', num: true, fmt: (r) => signed(r.diff), raw: (r) => r.diff },
    ], rows, 'whatif-catalogue.csv'));
    out.appendChild(dataTable('whatif.cat.items', [
      { key: 'id', label: 'col.id' },
      { key: 'count', label: 'whatif.cat.count', num: true, fmt: (r) => fmtNum(r.count) },
      { key: 'price_base', label: 'whatif.col.base', num: true, fmt: (r) => fmtNum(r.price_base) },
      { key: 'price_draft', label: 'whatif.col.draft', num: true, fmt: (r) => (r.price_draft ? fmtNum(r.price_draft) : t('whatif.cat.gone')) },
      { key: 'refused', label: 'whatif.cat.refused', num: true, fmt: (r) => fmtNum(r.refused) },
    ], c.items || [], 'whatif-items.csv', 'whatif.cat.none'));
    out.appendChild(changesTable('whatif.cat.top', c.top_changes, 'whatif-catalog-top.csv', 'whatif.cat.nochange'));
    out.appendChild(h('p', { class: 'note', text: t('whatif.cat.assumption', { from: String(res.from), to: String(res.to) }) }));
  }

  // The USSD menus and SMS texts (cfg:{adm}:menus, the format of ussd.menus_file), checked by
  // the USSD layer's own loader; the gateways swap them in between two screens.
  VIEWS.menus = (main, arg, view) => docEditor(main, view, {
    id: 'menus', path: '/api/menus',
    summary(m, doc) {
      m.appendChild(h('p', {}, t('menus.langs', { langs: Object.keys(doc.menus || {}).join(', '), def: doc.default_language || '' })));
    },
  });

  // The campaign rules (cfg:{adm}:campaigns: welcome, tenure, win-back; docs/campaigns.md),
  // checked by the gateways' own parser; every gateway with campaigns.enabled follows the version.
  VIEWS.rules = (main, arg, view) => docEditor(main, view, {
    id: 'rules', path: '/api/campaign-rules',
    summary(m, doc) {
      m.appendChild(dataTable('rules.list', [
        { key: 'id', label: 'col.id' },
        { key: 'rule', label: 'rules.rule', fmt: (c) => t('rules.rule.' + c.rule), raw: (c) => c.rule },
        { key: 'period', label: 'rules.period', fmt: (c) => h('span', { dir: 'ltr', text: (c.start || '') + ' – ' + (c.end || '') }), raw: (c) => (c.start || '') + '/' + (c.end || '') },
        { key: 'points', label: 'rules.points', num: true, fmt: (c) => fmtNum(c.points) },
        { key: 'tiers', label: 'rules.tiers', fmt: (c) => Object.entries(c.tiers || {}).map(([n, p]) => tierName(n) + ' ' + fmtNum(p)).join(', '),
          raw: (c) => Object.entries(c.tiers || {}).map(([n, p]) => n + '=' + p).join(',') },
        { key: 'budget', label: 'rules.budget', num: true, fmt: (c) => fmtNum(c.budget) },
      ], doc.campaigns || [], 'campaign-rules.csv'));
      const figures = h('div', { id: 'rules-figures' });
      m.appendChild(figures);
      rulesFigures(figures, view);
    },
    after: (m, ta, view) => whatifPanel(m, view, { body() {
      try { return { campaigns: JSON.parse(ta.value) }; } catch (e) { alarm(t('doc.notjson', { why: e.message })); ta.focus(); return null; }
    } }, 'campaigns'),
  });

  // The campaigns' what-if: bonuses, budgets and hard stops, in force and draft side by side.
  function whatifCampResult(out, res) {
    const c = res.campaigns || {}, b = c.base || {}, d = c.draft || {};
    const signed = (v) => (v === null ? '' : h('span', { dir: 'ltr', text: (v > 0 ? '+' : '') + fmtNum(v) }));
    const rows = ['issued', 'grants', 'stops', 'offers'].map((k) => ({ key: k, a: fmtNum(b[k] || 0), z: fmtNum(d[k] || 0), diff: (d[k] || 0) - (b[k] || 0) }));
    // the bonus points issued stay owed: in money when the console knows what a point is worth
    const money = (v) => (res.point_value_micro && res.currency ? fmtMoney(v, res.point_value_micro, res.currency) : fmtNum(v));
    rows.splice(1, 0, { key: 'liability', a: money(b.issued || 0), z: money(d.issued || 0), diff: (d.issued || 0) - (b.issued || 0) });
    // each member's end state with each side's bonuses (loyaltyctl: ctl_whatif_camp_spread)
    if (b.tiers || d.tiers) rows.push(...spreadRows(b, d));
    out.appendChild(dataTable('whatif.compare', [
      { key: 'what', label: 'whatif.col.what', fmt: (r) => spreadLabel(r) || t('whatif.camp.' + r.key),
        raw: (r) => (r.key === 'tier' ? 'tier:' + r.tier : r.key) },
      { key: 'a', label: 'whatif.col.base', num: true },
      { key: 'z', label: 'whatif.col.draft', num: true },
      { key: 'diff', label: 'whatif.col.diff', num: true, fmt: (r) => signed(r.diff), raw: (r) => r.diff },
    ], rows, 'whatif-campaigns.csv'));
    out.appendChild(dataTable('whatif.camp.budgets', [
      { key: 'id', label: 'col.id' },
      { key: 'rule', label: 'rules.rule', fmt: (x) => t('rules.rule.' + x.rule), raw: (x) => x.rule },
      { key: 'spent', label: 'whatif.camp.spent', num: true, fmt: (x) => fmtNum((x.spent_before || 0) + x.spent) + ' / ' + fmtNum(x.budget), raw: (x) => x.spent },
      { key: 'grants', label: 'whatif.camp.grants', num: true, fmt: (x) => fmtNum(x.grants) },
      { key: 'stop', label: 'whatif.camp.stop', fmt: (x) => (x.stop_reached ? t('whatif.camp.stopped', { n: fmtNum(x.stops) }) : '-'), raw: (x) => x.stops },
    ], d.campaigns || [], 'whatif-budgets.csv', 'whatif.cat.none'));
    out.appendChild(changesTable('whatif.camp.top', c.top_changes, 'whatif-campaigns-top.csv', 'whatif.camp.nochange'));
    out.appendChild(h('p', { class: 'note', text: t('whatif.camp.assumption', { from: String(res.from), to: String(res.to) }) }));
    if (b.tiers || d.tiers) out.appendChild(h('p', { class: 'note', text: t('whatif.camp.spread', { n: fmtNum(c.holders || 0) }) }));
  }

  // ------------------------------------------------------------------ reports
  // The page draws a ReportData, whatever its source:
  //   {wallets, liability, lifetime, balances[], days: {YYYY-MM-DD: {issued, redeemed, refunded,
  //    reversed}}, items: {id: {count, points}}, tiers: {name: members}, tier_order [names, lowest
  //    first], dlq, hl, currency, point_value_micro, complete}
  // Two sources: 'aggregates' reads the ledger's per-slot daily aggregates
  // (/api/reports/aggregates, docs/data-model.md 6: time independent of the subscribers; no
  // balances[] but top20 from the balance histogram, every day exact) and
  // 'scan' walks the wallets (/api/reports/wallets, pilot scale, kept to cross-check).
  // REPORT_SOURCE names the one the page uses: drawReports does not change.
  const REPORT_SOURCES = {
    async scan(view, onPage) {
      const acc = { wallets: 0, liability: 0, lifetime: 0, balances: [], days: {}, items: {}, tiers: {}, dlq: 0, hl: 0,
        currency: '', point_value_micro: 0, complete: false };
      let cursor = '0';
      for (let i = 0; i < REPORT_MAX_PAGES; i++) {
        const r = await api('GET', '/api/reports/wallets?count=' + REPORT_PAGE + '&cursor=' + cursor);
        if (!live(view)) return null;
        if (!r.ok) { apiError(r); return null; }
        const p = r.data;
        acc.wallets += p.wallets; acc.liability += p.liability; acc.lifetime += p.lifetime;
        acc.balances.push(...p.balances);
        acc.dlq = p.dlq_waiting; acc.hl = p.history_len;
        acc.currency = p.currency || ''; acc.point_value_micro = p.point_value_micro || 0;
        for (const [d, v] of Object.entries(p.days)) {
          const a = (acc.days[d] = acc.days[d] || { issued: 0, redeemed: 0, refunded: 0, reversed: 0 });
          for (const k of Object.keys(a)) a[k] += v[k] || 0;
        }
        for (const [id, v] of Object.entries(p.items)) {
          const a = (acc.items[id] = acc.items[id] || { count: 0, points: 0 });
          a.count += v.count || 0; a.points += v.points || 0;
        }
        for (const [name, n] of Object.entries(p.tiers || {})) acc.tiers[name] = (acc.tiers[name] || 0) + n;
        acc.tier_order = p.tier_order || [];
        onPage(acc.wallets);
        cursor = p.cursor;
        if (p.done) { acc.complete = true; break; }
      }
      return acc;
    },
    async aggregates(view, onPage) {
      // up to tomorrow in the viewer's zone: the programme's day (the aggregates' key, in the
      // calendar's zone) may already be tomorrow here; a day with no data is simply absent
      const to = new Date(Date.now() + 86400000);
      const from = new Date(to.getTime() - 31 * 86400000);
      const ymd = (d) => d.getFullYear() * 10000 + (d.getMonth() + 1) * 100 + d.getDate();
      const r = await api('GET', '/api/reports/aggregates?from=' + ymd(from) + '&to=' + ymd(to));
      if (!live(view)) return null;
      if (!r.ok) { apiError(r); return null; }
      const p = r.data;
      const days = {};
      for (const [d, v] of Object.entries(p.days || {})) {
        days[d] = { issued: v.issued, redeemed: v.redeemed, refunded: v.refunded, reversed: v.reversed };
      }
      onPage(p.wallets);
      return { wallets: p.wallets, liability: p.liability, balances: [], top20: p.top20_ppm / 1e6,
        days, items: p.items || {}, tiers: p.tiers || {}, tier_order: p.tier_order || [], dlq: p.dlq_waiting,
        hl: 0, currency: p.currency || '', point_value_micro: p.point_value_micro || 0, complete: true };
    },
  };
  const REPORT_SOURCE = 'aggregates';

  // ------------------------------------------------------------------ campaign rules' figures
  // Part of the campaign rules page (VIEWS.rules, under the document): each campaign's budget
  // spent and left (GET /api/campaign-rules/figures: no subscriber identity, every role), and the
  // win-back funnel - targeted, came back, points spent - as charts next to their tables. The
  // preview of who would qualify reads 16,384 x days index sets: loyaltyctl campaign-rules does it.
  function ruleName(rule) {
    const k = 'rules.rule.' + rule;
    const s = t(k);
    return s === k ? rule : s;
  }
  async function rulesFigures(main, view) {
    const r = await api('GET', '/api/campaign-rules/figures');
    if (!live(view)) return;
    if (r.status === 404) return; // no document: the editor above says so
    if (!r.ok) { apiError(r); return; }
    const d = r.data;
    const today = todayIso();
    const rows = (d.campaigns || []).map((c) => Object.assign({}, c, {
      active: c.start <= today && today <= c.end,
    }));
    const out = h('section', { id: 'rules-body', 'aria-labelledby': 'rules-list-h' },
      h('h2', { id: 'rules-list-h', text: t('rules.list') }));
    main.appendChild(out);
    out.appendChild(dataTable('rules.list', [
      { key: 'id', label: 'rules.col.id' },
      { key: 'rule', label: 'rules.col.rule', fmt: (x) => ruleName(x.rule) },
      { key: 'start', label: 'rules.col.period', fmt: (x) => isolate(x.start) + ' \u2013 ' + isolate(x.end), raw: (x) => x.start + '/' + x.end },
      { key: 'active', label: 'rules.col.state', fmt: (x) => t(x.active ? 'rules.active' : 'rules.inactive') },
      { key: 'points', label: 'rules.col.points', num: true, fmt: (x) => fmtNum(x.points) },
      { key: 'budget', label: 'rules.col.budget', num: true, fmt: (x) => fmtNum(x.budget) },
      { key: 'spent', label: 'rules.col.spent', num: true, fmt: (x) => fmtNum(x.spent) },
      { key: 'left', label: 'rules.col.left', num: true, fmt: (x) => fmtNum(x.left) },
      { key: 'grants', label: 'rules.col.grants', num: true, fmt: (x) => fmtNum(x.grants) },
      { key: 'budget_stops', label: 'rules.col.stops', num: true, fmt: (x) => fmtNum(x.budget_stops) },
    ], rows, 'campaign-rules.csv'));
    if (rows.length) {
      chart(out, {
        id: 'rules-budget', title: t('rules.chart.budget'), horizontal: true,
        labels: rows.map((x) => x.id), xTitle: t('rules.col.id'), yTitle: t('chart.axis.points'),
        series: [{ name: t('rules.col.spent'), values: rows.map((x) => x.spent) },
          { name: t('rules.col.left'), values: rows.map((x) => Math.max(0, x.left)) }],
      });
    }
    const wb = rows.filter((x) => x.rule === 'winback');
    const fs = h('section', { id: 'rules-funnel', 'aria-labelledby': 'rules-funnel-h' },
      h('h2', { id: 'rules-funnel-h', text: t('rules.funnel') }));
    main.appendChild(fs);
    if (!wb.length) {
      fs.appendChild(h('p', { class: 'note', text: t('rules.funnel.none') }));
    } else {
      fs.appendChild(dataTable('rules.funnel', [
        { key: 'id', label: 'rules.col.id' },
        { key: 'offered', label: 'rules.col.targeted', num: true, fmt: (x) => fmtNum(x.offered) },
        { key: 'came_back', label: 'rules.col.back', num: true, fmt: (x) => fmtNum(x.came_back) },
        { key: 'rate', label: 'rules.col.rate', num: true, fmt: (x) => (x.offered ? fmtPct(x.came_back / x.offered) : ''), raw: (x) => (x.offered ? x.came_back / x.offered : '') },
        { key: 'spent', label: 'rules.col.pointsspent', num: true, fmt: (x) => fmtNum(x.spent) },
      ], wb, 'winback-funnel.csv'));
      chart(fs, {
        id: 'rules-funnel-members', title: t('rules.chart.funnel'),
        labels: wb.map((x) => x.id), xTitle: t('rules.col.id'), yTitle: t('chart.axis.members'),
        series: [{ name: t('rules.col.targeted'), values: wb.map((x) => x.offered) },
          { name: t('rules.col.back'), values: wb.map((x) => x.came_back) }],
      });
      chart(fs, {
        id: 'rules-funnel-points', title: t('rules.chart.points'), short: true,
        labels: wb.map((x) => x.id), xTitle: t('rules.col.id'), yTitle: t('chart.axis.points'),
        series: [{ name: t('rules.col.pointsspent'), values: wb.map((x) => x.spent) }],
      });
    }
    main.appendChild(h('section', { id: 'rules-preview', 'aria-labelledby': 'rules-preview-h' },
      h('h2', { id: 'rules-preview-h', text: t('rules.preview') }),
      h('p', { class: 'note', text: t('rules.preview.cli') }),
      h('pre', { dir: 'ltr', text: 'loyaltyctl campaign-rules [--at UNIX] [--days N] [--json]' })));
  }

  VIEWS.reports = async function (main, arg, view) {
    main.appendChild(h('h1', { text: t('reports.title') }));
    main.appendChild(h('p', { class: 'note', text: t('reports.scale') }));
    const progress = h('p', { id: 'reports-progress', role: 'status' });
    const out = h('div', { id: 'reports-body' });
    main.appendChild(h('button', { type: 'button', id: 'reports-run', text: t('reports.run'), on: { click: () => run() } }));
    main.appendChild(progress);
    main.appendChild(out);
    const run = async () => {
      // item names in the viewer's language come from the catalogue in force
      const cat = await api('GET', '/api/catalog');
      if (!live(view)) return;
      const names = {};
      for (const it of (cat.ok && cat.data.document && cat.data.document.items) || []) names[it.id] = itemName(it);
      const acc = await REPORT_SOURCES[REPORT_SOURCE](view, (n) => { progress.textContent = t('reports.progress', { n: fmtNum(n) }); });
      if (!acc || !live(view)) return;
      drawReports(out, acc, names);
      progress.textContent = acc.complete ? t('reports.complete', { n: fmtNum(acc.wallets) }) : t('reports.partial', { n: fmtNum(acc.wallets) });
    };
    await run();
  };

  // The top-20% share: from the aggregates' histogram (acc.top20), else from the balances.
  function top20(acc) { return acc.top20 !== undefined ? acc.top20 : topShare(acc.balances); }
  // Share of all points held by the top 20% of wallets by balance.
  function topShare(balances) {
    const sorted = balances.slice().sort((a, b) => b - a);
    const total = sorted.reduce((a, x) => a + x, 0);
    const k = Math.ceil(sorted.length * 0.2);
    const top = sorted.slice(0, k).reduce((a, x) => a + x, 0);
    return total > 0 ? top / total : 0;
  }
  // Points x (millionths of a currency unit per point) as money, exactly: BigInt, then the
  // decimal string to Intl (which formats a string without going through a binary float).
  function fmtMoney(points, micro, currency) {
    const v = BigInt(Math.trunc(points)) * BigInt(micro);
    const neg = v < 0n;
    const a = neg ? -v : v;
    const dec = (neg ? '-' : '') + (a / 1000000n).toString() + '.' + (a % 1000000n).toString().padStart(6, '0');
    try {
      return new Intl.NumberFormat(LOCALE[S.lang], { style: 'currency', currency, maximumFractionDigits: 2 }).format(dec);
    } catch (e) {
      return dec + ' ' + currency;
    }
  }
  function tierName(name) {
    if (!name) return t('tier.none');
    const k = 'tier.' + name;
    const s = t(k);
    return s === k ? name : s;
  }
  function dayLabel(iso) { // "YYYY-MM-DD" -> "7 Dec" in the viewer's language, the date as written
    const [y, m, d] = iso.split('-').map(Number);
    return new Intl.DateTimeFormat(LOCALE[S.lang], { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, d)));
  }

  function drawReports(out, acc, names) {
    out.textContent = '';
    dropCharts(false);
    const card = (k, v, id, extra) => h('li', { class: 'card' }, h('span', { class: 'k', text: t(k) }), h('span', { class: 'v', id, text: v }), extra || null);
    const money = acc.point_value_micro && acc.currency
      ? h('span', { class: 'money', id: 'rep-liability-money', text: t('reports.liability.money', { money: fmtMoney(acc.liability, acc.point_value_micro, acc.currency) }) })
      : h('span', { class: 'money', text: t('reports.liability.nomoney') });
    out.appendChild(h('ul', { class: 'cards' },
      card('reports.wallets', fmtNum(acc.wallets), 'rep-wallets'),
      card('reports.liability', fmtNum(acc.liability), 'rep-liability', money),
      card('reports.top20', fmtPct(top20(acc)), 'rep-top20'),
      card('reports.dlq', fmtNum(acc.dlq), 'rep-dlq')));
    const days = Object.keys(acc.days).sort().slice(-31);
    const rows = days.map((d) => Object.assign({ day: d }, acc.days[d]));
    chart(out, {
      id: 'perday', title: t('reports.perday'), labels: days.map(dayLabel),
      series: [
        { name: t('reports.issued'), values: rows.map((x) => x.issued) },
        { name: t('reports.redeemed'), values: rows.map((x) => x.redeemed) },
      ],
      xTitle: t('chart.axis.day'), yTitle: t('chart.axis.points'),
    });
    if (acc.hl) out.appendChild(h('p', { class: 'note', text: t('reports.historynote', { n: acc.hl }) }));
    out.appendChild(dataTable('reports.perday.table', [
      { key: 'day', label: 'col.day', fmt: (o) => isolate(o.day), raw: (o) => o.day },
      { key: 'issued', label: 'reports.issued', num: true, fmt: (o) => fmtNum(o.issued) },
      { key: 'redeemed', label: 'reports.redeemed', num: true, fmt: (o) => fmtNum(o.redeemed) },
      { key: 'refunded', label: 'reports.refunded', num: true, fmt: (o) => fmtNum(o.refunded) },
      { key: 'reversed', label: 'reports.reversed', num: true, fmt: (o) => fmtNum(o.reversed) },
    ], rows, 'points-per-day.csv'));
    const items = Object.entries(acc.items).map(([id, v]) => ({ id, name: names[id] || id, count: v.count, points: v.points }))
      .sort((a, b) => b.count - a.count).slice(0, 10);
    if (items.length) {
      chart(out, {
        id: 'topitems', title: t('reports.topitems'), horizontal: true, labels: items.map((x) => x.name),
        series: [{ name: t('reports.redemptions'), values: items.map((x) => x.count) }],
        xTitle: t('chart.axis.item'), yTitle: t('chart.axis.redemptions'),
      });
    }
    out.appendChild(dataTable('reports.topitems.table', [
      { key: 'name', label: 'col.item' },
      { key: 'id', label: 'col.id' },
      { key: 'count', label: 'reports.redemptions', num: true, fmt: (o) => fmtNum(o.count) },
      { key: 'points', label: 'col.points', num: true, fmt: (o) => fmtNum(o.points) },
    ], items, 'top-items.csv', 'reports.noitems'));
    // in the table's order, lowest tier first; members without a tier last
    const rank = (name) => { const i = (acc.tier_order || []).indexOf(name); return i < 0 ? 1e9 : i; };
    const tiers = Object.entries(acc.tiers).map(([name, n]) => ({ name, label: tierName(name), members: n }))
      .sort((a, b) => rank(a.name) - rank(b.name));
    if (tiers.length) {
      chart(out, {
        id: 'tiers', title: t('reports.tiers'), short: true, labels: tiers.map((x) => x.label),
        series: [{ name: t('col.members'), values: tiers.map((x) => x.members) }],
        xTitle: t('chart.axis.tier'), yTitle: t('chart.axis.members'),
      });
    }
    out.appendChild(dataTable('reports.tiers.table', [
      { key: 'label', label: 'chart.axis.tier', raw: (o) => o.name },
      { key: 'members', label: 'col.members', num: true, fmt: (o) => fmtNum(o.members) },
    ], tiers, 'members-per-tier.csv'));
    out.appendChild(dataTable('reports.summary.table', [
      { key: 'k', label: 'col.measure', fmt: (o) => t(o.k), raw: (o) => o.k },
      { key: 'v', label: 'col.value', num: true },
    ], [
      { k: 'reports.wallets', v: acc.wallets },
      { k: 'reports.liability', v: acc.liability },
      { k: 'reports.lifetime', v: acc.lifetime },
      { k: 'reports.top20', v: top20(acc).toFixed(4) },
      { k: 'reports.dlq', v: acc.dlq },
    ].filter((x) => x.v !== undefined), 'report-summary.csv'));
  }

  // ------------------------------------------------------------------ pages in their own files
  // (suggestions.js ...): loaded before this file, each registered a function in
  // window.LGW_PAGES that adds its PAGES entry and its view with the helpers it is handed.
  for (const ext of window.LGW_PAGES || []) {
    ext({ PAGES, VIEWS, S, t, h, api, apiError, say, alarm, chart, dataTable, download, field,
          fmtNum, fmtTime, fmtTimeMs, live, isolate, go, route });
  }

  // ------------------------------------------------------------------ start
  async function start() {
    const saved = localStorage.getItem('lgw.lang');
    const guess = (navigator.language || 'en').slice(0, 2);
    await setLang(saved || (LANGS.includes(guess) ? guess : 'en'));
    document.getElementById('lang').addEventListener('change', async (ev) => {
      await setLang(ev.target.value);
      await route(); // redraw the current view in the new language
    });
    document.getElementById('logout').addEventListener('click', async () => {
      await api('POST', '/api/logout');
      clearSession();
      go('login');
    });
    window.addEventListener('hashchange', route);
    await route();
    document.body.setAttribute('data-ready', '1');
  }
  start();
})();
