// The pages work without this file; with it they are quicker: a live count and script previews on the
// new-campaign page, a unit picker, live progress of imports and campaigns, and a confirmation before
// what cannot be undone. No library: plain DOM and fetch.
'use strict';
(() => {
  const debounce = (fn, ms) => { let timer; return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); }; };

  // -- buttons that ask first (stop a campaign, disable a user...) -----------------------------------
  document.addEventListener('submit', (e) => {
    const button = e.submitter || e.target.querySelector('[data-confirm]');
    if (button && button.dataset.confirm && !window.confirm(button.dataset.confirm)) e.preventDefault();
  });

  // -- the new-campaign page: who it reaches and what they hear, as the form changes ------------------
  const form = document.getElementById('campaign-form');
  if (form && form.dataset.summary) {
    const target = document.getElementById('campaign-summary');
    let asked = 0;
    const refresh = debounce(async () => {
      const params = new URLSearchParams(new FormData(form));
      params.delete('csrf_token'); params.delete('action');
      const mine = ++asked;
      target.setAttribute('aria-busy', 'true');
      try {
        const r = await fetch(`${form.dataset.summary}?${params}`, {headers: {Accept: 'text/html'}});
        if (r.ok && mine === asked) target.innerHTML = await r.text();
      } finally { if (mine === asked) target.removeAttribute('aria-busy'); }
    }, 400);
    form.addEventListener('input', (e) => { if (!e.target.closest('.unit-search')) refresh(); });
    form.addEventListener('change', (e) => { if (!e.target.closest('.unit-search')) refresh(); });

    const search = form.querySelector('.unit-search');
    if (search) {
      search.hidden = false;
      const input = search.querySelector('input'), list = search.querySelector('ul'), units = form.querySelector('#f-units');
      const find = debounce(async () => {
        const q = input.value.trim();
        list.replaceChildren();
        if (!q) return;
        const r = await fetch(`${search.dataset.search}?q=${encodeURIComponent(q)}`);
        if (!r.ok) return;
        for (const u of await r.json()) {
          const b = document.createElement('button');
          b.type = 'button'; b.textContent = `${u.kind} ${u.name}${u.in ? ' · ' + u.in : ''} (${u.key})`;
          b.addEventListener('click', () => {
            const keys = units.value.split(/[\s,]+/).filter(Boolean);
            if (!keys.includes(u.key)) keys.push(u.key);
            units.value = keys.join(' '); list.replaceChildren(); input.value = ''; units.focus(); refresh();
          });
          const li = document.createElement('li'); li.append(b); list.append(li);
        }
      }, 250);
      input.addEventListener('input', find);
      input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); const first = list.querySelector('button'); if (first) first.click(); } });
    }
  }

  // -- an import's page: rows done, live, then the result -------------------------------------------
  const job = document.getElementById('job');
  if (job && ['queued', 'running'].includes(job.dataset.state)) {
    const bar = job.querySelector('progress'), done = job.querySelector('[data-k=rows_done]');
    const poll = async () => {
      try {
        const r = await fetch(job.dataset.status);
        if (r.ok) {
          const s = await r.json();
          if (s.rows_total) { bar.max = s.rows_total; bar.value = s.rows_done; }
          done.textContent = s.rows_done.toLocaleString();
          if (!['queued', 'running'].includes(s.state)) { window.location.reload(); return; }
        }
      } catch (e) { /* the next poll tries again */ }
      setTimeout(poll, 700);
    };
    setTimeout(poll, 300);
  }

  // -- a campaign's page: its progress, live ---------------------------------------------------------
  const progress = document.getElementById('progress');
  if (progress && progress.dataset.progress) {
    const bar = progress.querySelector('progress');
    const poll = async () => {
      try {
        const r = await fetch(progress.dataset.progress);
        if (r.ok) {
          const c = await r.json(), p = c.progress;
          for (const k of ['done', 'targets', 'in_flight', 'due', 'removed']) {
            const el = progress.querySelector(`[data-k=${k}]`); if (el) el.textContent = p[k];
          }
          bar.max = Math.max(1, p.targets); bar.value = p.done;
          progress.dataset.done = p.done; progress.dataset.inFlight = p.in_flight;
          if (c.state !== progress.dataset.state) { window.location.reload(); return; }
        }
      } catch (e) { /* the next poll tries again */ }
      setTimeout(poll, 1500);
    };
    if (!['stopped', 'completed'].includes(progress.dataset.state)) setTimeout(poll, 1500);
  }
})();
