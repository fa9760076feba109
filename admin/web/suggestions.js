/*
 * suggestions.js - the suggestion box's inbox (issue 10 section 2), a page of the staff console
 * kept in its own file. Loaded before app.js, it registers itself in window.LGW_PAGES; app.js
 * hands it its helpers (h, t, api, chart, dataTable...) before the first view is drawn.
 *
 * The page: the weekly counts and average rating (a Chart.js bar chart, vendored, and the same
 * figures in a table), the filters (rating, language, tag, open/handled), the ideas newest first
 * with their tag and "handled" switch (marketing and care; every change audited by the API), and
 * the CSV export of the filtered list (made by the API: masked, formula-guarded). The MSISDN
 * comes masked for roles without subscriber data: the page shows what the API gives.
 * Owner: the suggestion-box engineer.
 */
(function () {
  'use strict';
  const EXT = (window.LGW_PAGES = window.LGW_PAGES || []);
  EXT.push(function (c) {
    const { PAGES, VIEWS, S, t, h, api, apiError, say, chart, dataTable, download, fmtNum, fmtTimeMs, live, isolate } = c;
    const MEMBER_LANGS = ['ar', 'fr', 'en', 'fa'];
    const MARKERS = ['marketing', 'care'];
    PAGES.push({ id: 'suggestions', roles: ['marketing', 'care', 'auditor'] });

    function select(name, options, value) {
      const s = h('select', { name, id: 'suggest-' + name });
      for (const [v, k] of options) s.appendChild(h('option', { value: v, text: k.startsWith('=') ? k.slice(1) : t(k) }));
      s.value = value || '';
      return s;
    }
    function query(f, extra) {
      const q = new URLSearchParams();
      for (const k of ['rating', 'lang', 'tag', 'handled']) if (f[k]) q.set(k, f[k]);
      for (const [k, v] of Object.entries(extra || {})) q.set(k, v);
      return '/api/suggestions?' + q.toString();
    }

    async function drawWeeks(box, view) {
      const r = await api('GET', '/api/suggestions/weeks');
      if (!live(view)) return;
      if (!r.ok) { apiError(r); return; }
      const weeks = r.data.weeks || [];
      box.textContent = '';
      const labels = weeks.map((w) => isolate(w.week));
      chart(box, {
        id: 'suggest-weeks', title: t('suggest.chart.title'), labels,
        xTitle: t('suggest.chart.week'), yTitle: t('suggest.chart.count'),
        series: [{ name: t('suggest.chart.count'), values: weeks.map((w) => w.count) }],
        short: true,
      });
      chart(box, {
        id: 'suggest-rating', title: t('suggest.chart.rating'), labels,
        xTitle: t('suggest.chart.week'), yTitle: t('suggest.chart.average'),
        series: [{ name: t('suggest.chart.average'), values: weeks.map((w) => (w.average === null ? 0 : Math.round(w.average * 100) / 100)) }],
        fmt: (v) => new Intl.NumberFormat(document.documentElement.lang, { maximumFractionDigits: 2 }).format(v),
        short: true,
      });
      box.appendChild(dataTable('suggest.weeks.caption', [
        { key: 'week', label: 'suggest.col.week' },
        { key: 'count', label: 'suggest.col.count', num: true, fmt: (w) => fmtNum(w.count) },
        { key: 'ratings', label: 'suggest.col.ratings', num: true, fmt: (w) => fmtNum(w.ratings) },
        { key: 'average', label: 'suggest.col.average', num: true, fmt: (w) => (w.average === null ? '' : fmtNum(Math.round(w.average * 100) / 100)) },
      ], weeks, 'suggestion-weeks.csv'));
    }

    function markControls(o, refresh) {
      if (!MARKERS.includes(S.role)) {
        return h('span', { text: (o.tag || '') + (o.handled ? ' ✓' : '') });
      }
      const tag = h('input', { type: 'text', name: 'tag', value: o.tag || '', maxlength: 24, size: 10, 'aria-label': t('suggest.col.tag'), pattern: '[a-z0-9_-]*' });
      const done = h('input', { type: 'checkbox', name: 'handled', checked: o.handled, 'aria-label': t('suggest.handled') });
      const save = h('button', {
        type: 'button', class: 'secondary', text: t('suggest.save'),
        on: {
          click: async () => {
            const r = await api('POST', '/api/suggestions/' + encodeURIComponent(o.id) + '/mark', { tag: tag.value.trim(), handled: done.checked });
            if (!r.ok) { apiError(r); return; }
            say(t('suggest.saved'));
            await refresh();
          },
        },
      });
      return h('span', { class: 'suggest-mark', 'data-id': o.id }, tag, h('label', {}, done, ' ', t('suggest.handled')), save);
    }

    VIEWS.suggestions = async function (main, arg, view) {
      main.appendChild(h('h1', { text: t('suggest.title') }));
      main.appendChild(h('p', { class: 'note', text: t('suggest.intro') }));
      const weeks = h('section', { id: 'suggest-weeks', 'aria-label': t('suggest.chart.title') });
      main.appendChild(weeks);
      const f = { rating: '', lang: '', tag: '', handled: '' };
      const rating = select('rating', [['', 'suggest.any'], ...[1, 2, 3, 4, 5].map((n) => [String(n), '=' + n])], f.rating);
      const lang = select('lang', [['', 'suggest.any'], ...MEMBER_LANGS.map((l) => [l, 'suggest.lang.' + l])], f.lang);
      const tag = h('input', { type: 'text', name: 'tag', id: 'suggest-tag', maxlength: 24, size: 12 });
      const handled = select('handled', [['', 'suggest.any'], ['false', 'suggest.open'], ['true', 'suggest.handled']], f.handled);
      const list = h('div', { id: 'suggest-list' });
      const form = h('form', { id: 'suggest-filters', class: 'inline' },
        c.field('suggest.col.rating', rating), c.field('suggest.col.lang', lang),
        c.field('suggest.col.tag', tag), c.field('suggest.col.handled', handled),
        h('button', { type: 'submit', text: t('suggest.filter') }),
        h('button', {
          type: 'button', class: 'secondary', id: 'suggest-csv', text: t('csv.export'),
          on: {
            click: async () => {
              const res = await fetch(query(f, { format: 'csv' }), { headers: { Authorization: 'Bearer ' + S.token }, cache: 'no-store' });
              if (!res.ok) { apiError({ status: res.status, data: null }); return; }
              download('suggestions.csv', await res.text());
            },
          },
        }));
      main.appendChild(form);
      main.appendChild(list);
      const pages = [];
      const cols = [
        { key: 'at', label: 'col.when', fmt: (o) => fmtTimeMs(o.at) },
        { key: 'msisdn', label: 'suggest.col.msisdn', fmt: (o) => h('span', { dir: 'ltr', text: o.msisdn || '' }) },
        { key: 'lang', label: 'suggest.col.lang', fmt: (o) => (MEMBER_LANGS.includes(o.lang) ? t('suggest.lang.' + o.lang) : o.lang) },
        { key: 'src', label: 'suggest.col.src', fmt: (o) => t('suggest.src.' + (o.src === 'sms' ? 'sms' : 'ussd')) },
        { key: 'rating', label: 'suggest.col.rating', num: true },
        { key: 'text', label: 'suggest.col.text', fmt: (o) => h('span', { dir: 'auto', class: 'suggest-text', text: o.text || '' }) },
        { key: 'tag', label: 'suggest.col.tag', fmt: (o) => markControls(o, reload) },
      ];
      const load = async (before) => {
        const r = await api('GET', query(f, { count: 50, ...(before ? { before } : {}) }));
        if (!live(view)) return;
        if (!r.ok) { apiError(r); return; }
        pages.push(r.data.items || []);
        list.textContent = '';
        list.appendChild(dataTable('suggest.caption', cols, pages.flat(), 'suggestions-page.csv', 'suggest.empty'));
        if (r.data.next) list.appendChild(h('button', { type: 'button', class: 'secondary', text: t('more'), on: { click: () => load(r.data.next) } }));
      };
      async function reload() {
        pages.length = 0;
        await load(null);
        await drawWeeks(weeks, view);
      }
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        Object.assign(f, { rating: rating.value, lang: lang.value, tag: tag.value.trim(), handled: handled.value });
        pages.length = 0;
        await load(null);
      });
      await drawWeeks(weeks, view);
      await load(null);
    };
  });
})();
