// The dashboard's pacing card: per operator campaign the pacing in use, the dial level and the abandon rate
// (window and today) against the cap; the operators' occupancy and wait between calls. Polls /api/pacing.
// Its words (English or Hindi, as the page) come with the page: #pacing-words.
(() => {
  const body = document.getElementById('pacing');
  if (!body) return;
  const words = document.getElementById('pacing-words');
  const W = words ? JSON.parse(words.textContent) : {};
  const say = (key, args, fallback) => {
    const text = W[key];
    if (text === undefined) return fallback;
    return text.replace(/\{(\w+)\}/g, (all, name) => (args && name in args ? String(args[name]) : all));
  };
  const pct = (x) => (x === null || x === undefined) ? '–' : `${(100 * x).toFixed(1)}%`;
  const num = (x) => (x === null || x === undefined) ? '–' : String(x);
  const set = (id, text) => { const el = document.getElementById(id); if (el) el.textContent = text; };
  const mode = (m) => say(`pc_${m}`, {}, m);
  const cell = (row, text, over) => {
    const td = document.createElement('td');
    td.textContent = text;
    if (over) td.className = 'error';
    row.appendChild(td);
  };
  async function refresh() {
    try {
      const r = await fetch('/api/pacing', {headers: {Accept: 'application/json'}});
      if (!r.ok) return;
      const data = await r.json();
      body.replaceChildren();
      for (const c of data.campaigns) {
        const tr = document.createElement('tr');
        tr.dataset.campaign = String(c.id);
        cell(tr, `${c.name} (${say(`pc_state_${c.state}`, {}, c.state)})`);
        cell(tr, c.pacing === c.running ? mode(c.pacing)
          : say('pc_running', {mode: mode(c.pacing), running: mode(c.running)}, `${c.pacing} (running ${c.running})`));
        cell(tr, num(c.level));
        cell(tr, say('pc_rate', {rate: pct(c.abandon_window), n: c.answered_window}), c.abandon_window > c.abandon_cap);
        cell(tr, say('pc_rate', {rate: pct(c.abandon_day), n: c.answered_day}), c.abandon_day > c.abandon_cap);
        cell(tr, pct(c.abandon_cap));
        cell(tr, c.why ? say(`pr_${c.why}`, c.why_args, c.reason || '') : (c.reason || ''));
        body.appendChild(tr);
      }
      set('pacing-window', String(data.window_minutes));
      set('occupancy', pct(data.operators.window.occupancy));
      set('occupancy-day', pct(data.operators.day.occupancy));
      set('wait-between', num(data.operators.window.wait_between_calls));
      set('wait-between-day', num(data.operators.day.wait_between_calls));
    } catch (e) { /* the next poll tries again */ }
  }
  refresh();
  setInterval(refresh, 5000);
})();
