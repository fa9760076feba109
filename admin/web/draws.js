/*
 * draws.js - the draw page of the staff console (issue 12 section 3), kept in its own file like
 * suggestions.js: loaded before app.js, it registers itself in window.LGW_PAGES and gets the
 * app's helpers.
 *
 * Per item opened by draw and gift day (GET /api/draws/<ITEM>?day=YYYYMMDD, admin/adm_draw.c;
 * no day: the item's last draw): the registrations, the draw's time, seed and digest, the
 * winners and the members the unclaimed units rolled down to, with their state (pending,
 * claimed, expired: the unit went down the list) and claim deadline, whether their SMS still
 * waits in the outbox, and how far down the waiting list the draw has gone. The seed and digest
 * come with the loyaltyctl command that re-runs the draw, for the auditor to reproduce it. Read
 * only for every role; the numbers come masked for roles without subscriber data (marketing),
 * whole for care and the auditor: the page shows what the API gives.
 * Owner: the draw engineer.
 */
(function () {
  'use strict';
  const EXT = (window.LGW_PAGES = window.LGW_PAGES || []);
  EXT.push(function (c) {
    const { PAGES, VIEWS, S, t, h, api, apiError, dataTable, fmtNum, fmtTime, live, go } = c;
    const STATES = ['pending', 'claimed', 'expired'];
    PAGES.push({ id: 'draws', roles: ['marketing', 'care', 'auditor'] });

    const nameOf = (it) => {
      const n = it.names || {};
      return n[S.lang] || n.en || n.fr || n.ar || it.id;
    };
    const ltr = (v, cls) => h('span', { dir: 'ltr', class: cls || null, text: v === undefined || v === null ? '' : String(v) });
    const dayIso = (d) => (/^\d{8}$/.test(d || '') ? d.slice(0, 4) + '-' + d.slice(4, 6) + '-' + d.slice(6) : d || '');

    // The items of the catalogue in force opened by draw (none when it cannot be read: the
    // page then takes an id typed in).
    async function drawItems() {
      const r = await api('GET', '/api/catalog');
      const items = (r.ok && r.data && r.data.document && r.data.document.items) || [];
      return items.filter((it) => it.opening && it.opening.mode === 'draw');
    }

    function summary(d, names) {
      const rows = [
        { k: 'draws.k.item', v: names[d.item] ? names[d.item] + ' (' + d.item + ')' : d.item, raw: d.item },
        { k: 'draws.k.day', v: ltr(dayIso(d.day)), raw: d.day },
        { k: 'draws.k.registrations', v: fmtNum(d.registrations), raw: d.registrations },
      ];
      if (d.drawn) {
        rows.push(
          { k: 'draws.k.at', v: fmtTime(d.at), raw: d.at },
          { k: 'draws.k.seed', v: ltr(d.seed, 'draw-seed'), raw: d.seed },
          { k: 'draws.k.digest', v: ltr(d.digest, 'draw-digest'), raw: d.digest },
          { k: 'draws.k.winners', v: fmtNum(d.winners), raw: d.winners },
          { k: 'draws.k.reached', v: fmtNum(d.reached), raw: d.reached },
          { k: 'draws.k.open', v: fmtNum(d.open), raw: d.open },
        );
      }
      return dataTable('draws.summary.caption', [
        { key: 'k', label: 'col.measure', fmt: (o) => t(o.k), raw: (o) => o.k },
        { key: 'v', label: 'col.value', fmt: (o) => o.v, raw: (o) => o.raw },
      ], rows, 'draw-' + d.item + '-' + d.day + '.csv');
    }

    function offers(d) {
      return dataTable('draws.offers.caption', [
        { key: 'rank', label: 'draws.col.rank', num: true, fmt: (o) => fmtNum(o.rank) },
        { key: 'msisdn', label: 'draws.col.msisdn', fmt: (o) => ltr(o.msisdn) },
        { key: 'state', label: 'draws.col.state', fmt: (o) => h('span', { class: 'draw-state', 'data-state': o.state, text: STATES.includes(o.state) ? t('draws.state.' + o.state) : o.state }) },
        { key: 'deadline', label: 'draws.col.deadline', fmt: (o) => fmtTime(o.deadline) },
        { key: 'sms_queued', label: 'draws.col.sms', fmt: (o) => t(o.sms_queued ? 'draws.sms.queued' : 'draws.sms.done') },
      ], d.offers || [], 'draw-winners-' + d.item + '-' + d.day + '.csv', 'draws.offers.empty');
    }

    async function show(out, item, day, names, view) {
      out.textContent = '';
      if (!item) return;
      const q = day ? '?day=' + encodeURIComponent(day) : '';
      const r = await api('GET', '/api/draws/' + encodeURIComponent(item) + q);
      if (!live(view)) return;
      if (r.status === 404) { out.appendChild(h('p', { class: 'note', id: 'draw-none', text: t('draws.none') })); return; }
      if (!r.ok) { apiError(r); return; }
      const d = r.data;
      out.appendChild(summary(d, names));
      if (!d.drawn) {
        out.appendChild(h('p', { class: 'note', id: 'draw-pending', text: t('draws.notdrawn') }));
        return;
      }
      out.appendChild(h('section', { id: 'draw-rerun', 'aria-labelledby': 'draw-rerun-h' },
        h('h2', { id: 'draw-rerun-h', text: t('draws.rerun.title') }),
        h('p', { class: 'note', text: t('draws.rerun.note') }),
        h('pre', { dir: 'ltr' }, h('code', { text: d.rerun || '' }))));
      out.appendChild(offers(d));
    }

    // #/draws[/ITEM[/YYYYMMDD]]
    VIEWS.draws = async function (main, arg, view) {
      main.appendChild(h('h1', { text: t('draws.title') }));
      main.appendChild(h('p', { class: 'note', text: t('draws.intro') }));
      const [argItem, argDay] = (arg || '').split('/');
      const items = await drawItems();
      if (!live(view)) return;
      const names = {};
      for (const it of items) names[it.id] = nameOf(it);
      let item;
      if (items.length) {
        item = h('select', { name: 'item', id: 'draw-item' });
        for (const it of items) item.appendChild(h('option', { value: it.id, text: names[it.id] }));
        if (argItem && !names[argItem]) item.appendChild(h('option', { value: argItem, text: argItem }));
      } else {
        item = h('input', { type: 'text', name: 'item', id: 'draw-item', maxlength: 31, size: 16, pattern: '[A-Za-z0-9._\\-]+', required: true });
      }
      item.value = argItem || (items[0] ? items[0].id : '');
      const day = h('input', { type: 'text', name: 'day', id: 'draw-day', maxlength: 10, size: 12, pattern: '\\d{4}-?\\d{2}-?\\d{2}', inputmode: 'numeric', placeholder: 'YYYY-MM-DD' });
      day.value = argDay ? dayIso(argDay) : '';
      const out = h('div', { id: 'draw-out' });
      const form = h('form', { id: 'draw-form', class: 'inline' },
        c.field('draws.item', item), c.field('draws.day', day, 'draws.day.hint'),
        h('button', { type: 'submit', text: t('draws.show') }));
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const d = day.value.replace(/-/g, '').trim();
        if (d && !/^\d{8}$/.test(d)) { day.setCustomValidity(t('draws.day.hint')); day.reportValidity(); return; }
        day.setCustomValidity('');
        go('draws', item.value.trim() + (d ? '/' + d : ''));
      });
      main.appendChild(form);
      main.appendChild(out);
      await show(out, item.value, argDay && /^\d{8}$/.test(argDay) ? argDay : '', names, view);
    };
  });
})();
