/*
 * makegood.js - make-good (issue 10 section 5), a page of the staff console kept in its own file
 * like suggestions.js: loaded before app.js, it registers itself in window.LGW_PAGES and is handed
 * the console's helpers.
 *
 * The page: a gift day (today by default; #/makegood/<YYYYMMDD> names one), the redemptions that
 * failed on it through our fault as the gateways recorded them (time, masked or full MSISDN as
 * the API gives it: marketing reads it masked, cause), and for care one action that compensates
 * every member on the list: points through the ledger, or a priority pass for next week (the
 * premium tiers' earlier opening). The API pays nobody twice per incident and audits the action.
 * Owner: the fraud brakes engineer.
 */
(function () {
  'use strict';
  const EXT = (window.LGW_PAGES = window.LGW_PAGES || []);
  EXT.push(function (c) {
    const { PAGES, VIEWS, S, t, h, api, apiError, say, dataTable, field, fmtNum, fmtTime, live, go } = c;
    const CAUSES = ['processing', 'timeout', 'store', 'unavailable'];
    PAGES.push({ id: 'makegood', roles: ['marketing', 'care', 'auditor'] });

    const isoOf = (ymd) => ymd.slice(0, 4) + '-' + ymd.slice(4, 6) + '-' + ymd.slice(6, 8);
    function todayYmd() {
      const d = new Date();
      const p = (n) => String(n).padStart(2, '0');
      return d.getFullYear() + p(d.getMonth() + 1) + p(d.getDate());
    }

    function grantForm(day, count) {
      const incident = h('input', { type: 'text', name: 'incident', id: 'mg-incident', required: true, maxlength: 32, size: 20, pattern: '[A-Za-z0-9_\\-]{1,32}' });
      const kindPoints = h('input', { type: 'radio', name: 'kind', id: 'mg-kind-points', value: 'points', checked: true });
      const kindPass = h('input', { type: 'radio', name: 'kind', id: 'mg-kind-pass', value: 'pass' });
      const points = h('input', { type: 'number', name: 'points', id: 'mg-points', min: 1, max: 100000, value: 50 });
      const form = h('form', { id: 'mg-grant' },
        h('fieldset', {}, h('legend', { text: t('mg.grant.title', { n: fmtNum(count) }) }),
          field('mg.incident', incident, 'mg.incident.hint'),
          h('div', { class: 'field', role: 'radiogroup', 'aria-label': t('mg.kind') },
            h('label', {}, kindPoints, ' ', t('mg.kind.points')),
            h('label', {}, kindPass, ' ', t('mg.kind.pass'))),
          field('mg.points', points),
          h('button', { type: 'submit', id: 'mg-submit', text: t('mg.grant.submit'), disabled: count === 0 })));
      const sync = () => { points.disabled = kindPass.checked; };
      kindPoints.addEventListener('change', sync);
      kindPass.addEventListener('change', sync);
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const body = { incident: incident.value.trim() };
        if (kindPass.checked) body.pass = true;
        else body.points = Number(points.value);
        const r = await api('POST', '/api/makegood/' + day + '/grant', body);
        if (!r.ok) { apiError(r); return; }
        const d = r.data;
        say(t(d.pass_until ? 'mg.done.pass' : 'mg.done.points', {
          applied: fmtNum(d.applied), duplicate: fmtNum(d.duplicate), failed: fmtNum(d.failed),
          until: d.pass_until ? isoOf(String(d.pass_until)) : '', points: fmtNum(d.points || 0),
        }));
      });
      return form;
    }

    VIEWS.makegood = async function (main, arg, view) {
      const day = /^\d{8}$/.test(arg || '') ? arg : todayYmd();
      main.appendChild(h('h1', { text: t('mg.title') }));
      main.appendChild(h('p', { class: 'note', text: t('mg.intro') }));
      const pick = h('input', { type: 'date', name: 'day', id: 'mg-day', value: isoOf(day), required: true });
      const form = h('form', { id: 'mg-pick', class: 'inline' }, field('mg.day', pick),
        h('button', { type: 'submit', id: 'mg-show', text: t('mg.show') }));
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        if (pick.value) go('makegood', pick.value.replace(/-/g, ''));
      });
      main.appendChild(form);
      const r = await api('GET', '/api/makegood/' + day);
      if (!live(view)) return;
      if (!r.ok) { apiError(r); return; }
      const items = (r.data.items || []).slice().sort((a, b) => b.at - a.at);
      const list = h('section', { id: 'mg-list', 'aria-label': t('mg.caption', { day: isoOf(day) }) });
      list.appendChild(dataTable('mg.caption', [
        { key: 'at', label: 'col.when', fmt: (o) => fmtTime(o.at) },
        { key: 'msisdn', label: 'mg.col.msisdn', fmt: (o) => h('span', { dir: 'ltr', text: o.msisdn || '' }) },
        { key: 'cause', label: 'mg.col.cause', fmt: (o) => (CAUSES.includes(o.cause) ? t('mg.cause.' + o.cause) : o.cause) },
      ], items, 'makegood-' + day + '.csv', 'mg.empty'));
      main.appendChild(list);
      if (S.role === 'care') main.appendChild(grantForm(day, items.length));
    };
  });
})();
