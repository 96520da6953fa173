// The poll-day board: the whole board arrives on the event stream (at once, then after each report,
// alert or round); each push redraws it. Weak booths first: low turnout there is the call to action.
(() => {
  const data = JSON.parse(document.getElementById('pd-data').textContent);
  const $ = (id) => document.getElementById(id);
  const cell = (text) => { const td = document.createElement('td'); td.textContent = text ?? ''; return td; };
  const pct = (v) => (v === null || v === undefined ? '' : `${v}%`);
  const since = (b) => b.reported_this_round ? '' : (b.silent_since === 'start' ? 'not today' : `since ${new Date(b.silent_since).toLocaleTimeString()}`);

  function doneButton(alert) {
    const button = document.createElement('button');
    button.textContent = `called back (${alert.kind})`;
    button.title = alert.message;
    button.addEventListener('click', () => fetch(`/api/pollday/alerts/${alert.id}/done`,
      {method: 'POST', headers: {'X-CSRF-Token': data.csrf}}));
    return button;
  }

  function draw(board) {
    $('pd-round').textContent = board.round ? `${board.round} (${board.rounds[board.round - 1].label})` : 'not begun';
    $('pd-reported').textContent = board.reported;
    $('pd-missing').textContent = board.not_reported;
    $('pd-alerts').textContent = board.open_alerts;
    $('pd-tickets').textContent = board.urgent_tickets;
    const links = $('pd-exports');
    links.replaceChildren();
    for (const r of board.rounds) {
      for (const fmt of ['csv', 'xlsx']) {
        const a = document.createElement('a');
        a.href = `/api/pollday/${board.ac_id}/export?round=${r.number}&format=${fmt}`;
        a.textContent = `round ${r.label} ${fmt.toUpperCase()}`;
        links.append(a, ' · ');
      }
    }
    const groups = $('pd-groups');
    groups.replaceChildren();
    for (const [name, booths] of Object.entries(board.groups)) {
      if (!booths.length) continue;
      const section = document.createElement('section');
      section.className = `card pd-${name}`;
      const h = document.createElement('h2');
      h.textContent = `${name} booths (${booths.length})`;
      const table = document.createElement('table');
      table.className = 'audit';
      const head = document.createElement('tr');
      for (const t of ['Booth', 'Voters', 'Round', 'Votes', 'Turnout', 'Last election', 'Ours', 'Our share',
                       'Not reported', 'Problem', 'Checks', 'Urgent tickets', 'Alerts']) {
        const th = document.createElement('th'); th.textContent = t; head.append(th);
      }
      table.append(head);
      for (const b of booths) {
        const tr = document.createElement('tr');
        tr.dataset.booth = b.id;
        if (b.alerts.length) tr.className = 'pd-alert'; else if (!b.reported_this_round) tr.className = 'pd-missing';
        const alerts = document.createElement('td');
        for (const a of b.alerts) alerts.append(doneButton(a));
        tr.append(cell(`${b.number ?? ''} ${b.name}`), cell(b.voters), cell(b.round), cell(b.votes), cell(pct(b.turnout)),
                  cell(pct(b.last_turnout)), cell(b.ours), cell(pct(b.ours_share)), cell(since(b)), cell(b.problem),
                  cell(b.flags.map((f) => f.message).join('; ')), cell(b.urgent_tickets || ''), alerts);
        table.append(tr);
      }
      section.append(h, table);
      groups.append(section);
    }
  }

  const source = new EventSource(`/pollday/${data.ac}/events`);
  source.addEventListener('board', (e) => { $('pd-live').textContent = 'live'; draw(JSON.parse(e.data)); });
  source.addEventListener('signed_out', () => { source.close(); window.location.href = '/signin'; });
  source.onerror = () => { $('pd-live').textContent = 'reconnecting'; };
})();
