// Counting day's result sheet: the whole sheet arrives on the event stream (at once, then after each table's
// report, alert or round); each push redraws it. Rows are rounds, columns the parties in the sheet's order,
// then the round's total, the running totals, the leader and margin and the tables not yet reported; a
// click on a round shows its tables (their figures, where they came from, their alerts).
(() => {
  const data = JSON.parse(document.getElementById('ct-data').textContent);
  const $ = (id) => document.getElementById(id);
  const opened = new Set();
  let parties = [];
  const cell = (text, cls) => {
    const td = document.createElement('td');
    td.textContent = text ?? '';
    if (cls) td.className = cls;
    return td;
  };
  const head = (names) => {
    const tr = document.createElement('tr');
    for (const [name, cls] of names) {
      const th = document.createElement('th'); th.textContent = name; if (cls) th.className = cls; tr.append(th);
    }
    return tr;
  };
  const leading = (leader, total) => leader ?? (total ? 'tied' : '');

  function doneButton(alert) {
    const button = document.createElement('button');
    button.textContent = `called back (${alert.kind})`;
    button.title = alert.message;
    button.addEventListener('click', () => fetch(`/api/pollday/counting/alerts/${alert.id}/done`,
      {method: 'POST', headers: {'X-CSRF-Token': data.csrf}}));
    return button;
  }

  function tablesOf(row) {
    const table = document.createElement('table');
    table.className = 'audit ct-tables';
    table.dataset.tables = row.round;
    table.append(head([['Table'], ['Booth'], ...parties.map((p) => [p.key, 'num']), ['Total', 'num'], ['From'],
                       ['Alerts']]));
    for (const t of row.tables) {
      const tr = document.createElement('tr');
      tr.dataset.table = t.table;
      if (t.alerts.length) tr.className = 'ct-alert';
      const alerts = document.createElement('td');
      for (const a of t.alerts) alerts.append(doneButton(a));
      tr.append(cell(t.table), cell(t.booth), ...t.votes.map((v) => cell(v, 'num')), cell(t.total, 'num'),
                cell(t.source ? `${t.source}${t.complete ? '' : ' (partly)'}` : 'not reported'), alerts);
      table.append(tr);
    }
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = 2 * parties.length + 8;
    td.append(table);
    tr.append(td);
    return tr;
  }

  function draw(sheet) {
    parties = sheet.parties;
    const current = sheet.rows.find((r) => r.round === sheet.round);
    $('ct-round').textContent = sheet.round ? `${sheet.round} of ${sheet.rounds} (${current ? current.label : ''})` : 'not begun';
    $('ct-leader').textContent = leading(sheet.leader, sheet.total) || '-';
    $('ct-margin').textContent = sheet.margin;
    $('ct-total').textContent = sheet.total;
    $('ct-alerts').textContent = sheet.open_alerts;
    const table = $('ct-sheet');
    table.replaceChildren(head([['Round'], ['Time'], ...parties.map((p) => [p.name ? `${p.key} (${p.name})` : p.key, 'num']),
                                ['Round total', 'num'], ...parties.map((p) => [`${p.key} so far`, 'num']),
                                ['Total so far', 'num'], ['Leading'], ['Margin', 'num'], ['Tables not reported']]));
    for (const r of sheet.rows) {
      const tr = document.createElement('tr');
      tr.dataset.round = r.round;
      tr.className = `ct-round${r.due ? '' : ' ct-planned'}${r.due && r.missing.length + r.partial.length ? ' ct-missing' : ''}`;
      const waiting = r.due ? [...r.missing.map(String), ...r.partial.map((t) => `${t}*`)].join(' ') : '';
      tr.append(cell(r.round), cell(r.label), ...r.votes.map((v) => cell(v, 'num')), cell(r.total, 'num'),
                ...r.cumulative.map((v) => cell(v, 'num')), cell(r.cumulative_total, 'num'),
                cell(leading(r.leader, r.cumulative_total)), cell(r.margin, 'num'), cell(waiting, 'ct-missing-cell'));
      tr.addEventListener('click', () => { if (opened.has(r.round)) opened.delete(r.round); else opened.add(r.round); draw(sheet); });
      table.append(tr);
      if (opened.has(r.round)) table.append(tablesOf(r));
    }
    const total = document.createElement('tr');
    total.className = 'ct-total';
    total.append(cell('Total'), cell(''), ...sheet.totals.map((v) => cell(v, 'num')), cell(sheet.total, 'num'),
                 ...sheet.totals.map((v) => cell(v, 'num')), cell(sheet.total, 'num'),
                 cell(leading(sheet.leader, sheet.total)), cell(sheet.margin, 'num'), cell(''));
    table.append(total);
    const list = $('ct-alert-list');
    list.replaceChildren();
    const h = document.createElement('h2');
    h.textContent = `Open alerts (${sheet.alerts.length})`;
    list.append(h);
    for (const a of sheet.alerts) {
      const p = document.createElement('p');
      p.textContent = `Round ${a.round}, table ${a.table}: ${a.message} `;
      p.append(doneButton(a));
      list.append(p);
    }
    const inputs = $('ct-party-inputs');
    if (inputs.dataset.parties !== parties.map((p) => p.key).join('|')) {
      inputs.dataset.parties = parties.map((p) => p.key).join('|');
      inputs.replaceChildren(...parties.map((p) => {
        const label = document.createElement('label');
        label.textContent = `${p.key} `;
        const input = document.createElement('input');
        input.type = 'number'; input.name = `party:${p.key}`;
        label.append(input);
        return label;
      }));
    }
  }

  $('ct-enter').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const votes = {};
    for (const [name, value] of form.entries()) {
      if (name.startsWith('party:') && value !== '') votes[name.slice(6)] = Number(value);
    }
    const resp = await fetch(`/api/pollday/${data.ac}/counting/votes`, {
      method: 'POST', headers: {'Content-Type': 'application/json', 'X-CSRF-Token': data.csrf},
      body: JSON.stringify({round: Number(form.get('round')), table: Number(form.get('table')), votes})});
    const body = await resp.json();
    $('ct-enter-result').textContent = resp.ok ? `saved (table ${body.table}, round ${body.round})` : (body.detail ?? 'refused');
  });

  const source = new EventSource(`/pollday/${data.ac}/counting/events`);
  source.addEventListener('sheet', (e) => { $('ct-live').textContent = 'live'; draw(JSON.parse(e.data)); });
  source.addEventListener('signed_out', () => { source.close(); window.location.href = '/signin'; });
  source.onerror = () => { $('ct-live').textContent = 'reconnecting'; };
})();
