// The operators' console: state buttons, the call on screen (screen pops over Server-Sent Events), the
// outcome of each call, the phone in the page (./phone.js) or a SIP softphone, and the call-back tasks that
// abandoned calls left (taken, called by hand, closed with the outcome).
// Keys: r ready, p pause, s off duty, d outcome; on a call: a answer, h hang up, m mute, o hold, t transfer,
// 0-9 * # DTMF.
import { BrowserPhone } from './phone.js';

const D = JSON.parse(document.getElementById('console-data').textContent);
const T = D.t;
const csrf = D.csrf;
let channel = D.channel;
let state = D.state;
const $ = (id) => document.getElementById(id);
const KIND_KEY = 'warroom.phone';

async function post(url, body) {
  const r = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
                               body: JSON.stringify(body) });
  const data = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(data.detail || r.statusText);
  return data;
}

// -- which phone: the one in this page, or a SIP softphone (remembered by this browser) ----------------
function phoneKind() {
  if (!D.phone.enabled) return 'softphone';
  return localStorage.getItem(KIND_KEY) || (D.phone.kind === 'softphone' ? 'softphone' : 'browser');
}
function showKind() {
  const kind = phoneKind();
  for (const radio of document.querySelectorAll('input[name=phone-kind]')) radio.checked = radio.value === kind;
  $('browser-phone').hidden = kind !== 'browser';
  $('softphone').hidden = kind === 'browser';
}
for (const radio of document.querySelectorAll('input[name=phone-kind]')) {
  radio.addEventListener('change', async () => {
    localStorage.setItem(KIND_KEY, radio.value);
    if (radio.value === 'softphone') await phone.unregister().catch(() => {});
    else if (['ready', 'on_call', 'wrap_up'].includes(state)) await phone.register().catch(() => {});
    showKind();
  });
}

// -- the phone in the page ------------------------------------------------------------------------------
const MESSAGES = {
  mic_denied: T.phone_mic_denied, mic_missing: T.phone_mic_missing, mic_failed: T.phone_mic_missing,
  no_media: T.phone_no_media, second_tab: T.phone_second_tab, lost: T.phone_lost, refused: T.phone_refused,
  no_credentials: T.phone_refused, answer_failed: T.phone_lost, hold_failed: T.phone_lost,
  autoplay: T.phone_autoplay,
};
const phone = new BrowserPhone({
  csrf,
  audio: $('call-audio'),
  onStatus: (status) => {
    $('phone-status').dataset.status = status;
    $('phone-status').textContent = T['phone_' + status] || status;
  },
  onMessage: (code, detail) => {
    if (code === 'registered') { $('phone-message').textContent = ''; return; }
    let text = MESSAGES[code] || code;
    if (code === 'lost' && detail && detail.startsWith('wss://')) text += ' ' + T.phone_certificate.replace('{url}', detail.replace(/^wss/, 'https'));
    $('phone-message').textContent = text;
    $('phone-message').dataset.code = code;
  },
  onLevel: (level) => { $('mic-level').value = level; },
  onIncoming: () => { $('call').hidden = false; },
  onCall: (s) => showCall(s),
  onQuality: (q, ended) => {
    if (!channel) return;
    post('/phone/quality', { channel_id: channel, packets_received: q.packets_received, packets_lost: q.packets_lost,
                             packets_sent: q.packets_sent, jitter_ms: q.jitter_ms, rtt_ms: q.rtt_ms, codec: q.codec,
                             ended }).catch(() => {});
  },
});
window.warroomPhone = phone;  // for the browser tests (call statistics)

function showCall(s) {
  const browser = phoneKind() === 'browser';
  $('call-controls').hidden = !browser;
  $('call-state').dataset.state = s;
  $('call-state').textContent = T['call_' + s] || s;
  const live = s === 'connected';
  $('call-answer').disabled = s !== 'ringing';
  $('call-hangup').disabled = !['ringing', 'connecting', 'connected'].includes(s);
  for (const id of ['call-mute', 'call-hold', 'call-keypad', 'call-transfer-to', 'call-transfer']) $(id).disabled = !live;
  $('call-mute').setAttribute('aria-pressed', String(phone.muted));
  $('call-mute').textContent = `${phone.muted ? T.unmute : T.mute} (m)`;
  $('call-hold').setAttribute('aria-pressed', String(phone.held));
  $('call-hold').textContent = `${phone.held ? T.resume_call : T.hold} (o)`;
  if (s === 'ringing') $('call-answer').focus();
}
$('call-answer').addEventListener('click', () => phone.answer());
$('call-hangup').addEventListener('click', () => phone.hangup());
$('call-mute').addEventListener('click', () => { phone.mute(); showCall(phone.callState); });
$('call-hold').addEventListener('click', async () => { await phone.hold(); showCall(phone.callState); });
$('call-keypad').addEventListener('input', (e) => { phone.dtmf(e.target.value); e.target.value = ''; });

// hand the caller to a supervisor: their phone rings; once they answer, this call ends here
async function loadSupervisors() {
  const r = await fetch('/console/supervisors');
  if (!r.ok) return;
  $('call-transfer-to').replaceChildren(...(await r.json()).map((u) => {
    const o = document.createElement('option'); o.value = u.id; o.textContent = u.name; return o;
  }));
}
async function transfer() {
  if (!$('call-transfer-to').value) return;
  $('call-transfer-result').textContent = T.transfer_ringing;
  try { await post('/console/transfer', { to: Number($('call-transfer-to').value) }); }
  catch (e) { $('call-transfer-result').textContent = e.message; }
}
$('call-transfer').addEventListener('click', transfer);
loadSupervisors();

// register while ready, on a call or in its wrap-up; not while paused or off duty
async function followState() {
  if (phoneKind() !== 'browser') return;
  if (['ready', 'on_call', 'wrap_up'].includes(state)) { if (phone.status !== 'registered' && phone.status !== 'registering') await phone.register().catch(() => {}); }
  else if (!phone.call && phone.status !== 'off') await phone.unregister().catch(() => {});
}

// -- states ---------------------------------------------------------------------------------------------
function showState(s) {
  state = s.state;
  const b = $('state-badge'); b.dataset.state = s.state; b.textContent = T['state_' + s.state] || s.state;
  if (s.channel_id) channel = s.channel_id;
  followState();
}
async function setState(to) {
  $('state-error').textContent = '';
  try {
    const browser = to === 'ready' && phoneKind() === 'browser';
    if (browser) await phone.register();  // ready needs a registered phone
    // Asterisk shows a phone that has just registered as online a moment later: ask again for a while
    for (let i = 0; ; i++) {
      try { showState(await post('/console/state', { to, reason: $('pause-reason').value || null })); break; }
      catch (e) { if (!browser || i >= 10 || !/registered/.test(e.message)) throw e; await sleep(300); }
    }
  } catch (e) { $('state-error').textContent = e.code ? '' : e.message; }
}
function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }
$('go-ready').addEventListener('click', () => setState('ready'));
$('go-pause').addEventListener('click', () => setState('paused'));
$('go-out').addEventListener('click', () => setState('signed_out'));

// signing out unregisters the phone first (the secret goes with the session anyway)
const signout = document.querySelector('form[action="/signout"]');
if (signout) {
  signout.addEventListener('submit', async (e) => {
    if (phone.status === 'off') return;
    e.preventDefault();
    await phone.close();
    signout.submit();
  });
}
window.addEventListener('pagehide', () => { phone.close(); });

document.addEventListener('keydown', (e) => {
  if (['INPUT', 'TEXTAREA', 'SELECT'].includes(e.target.tagName) || e.ctrlKey || e.altKey || e.metaKey) return;
  const inCall = phone.callState === 'connected';
  if (inCall && /^[0-9*#]$/.test(e.key)) { phone.dtmf(e.key); return; }
  switch (e.key) {
    case 'r': setState('ready'); break;
    case 'p': setState('paused'); break;
    case 's': setState('signed_out'); break;
    case 'd': $('dispo-kind').focus(); e.preventDefault(); break;
    case 'a': phone.answer(); break;
    case 'h': phone.hangup(); break;
    case 'm': if (inCall) { phone.mute(); showCall(phone.callState); } break;
    case 'o': if (inCall) phone.hold().then(() => showCall(phone.callState)); break;
    case 't': if (inCall) $('call-transfer-to').focus(); e.preventDefault(); break;
    default: break;
  }
});

// -- the call on screen ---------------------------------------------------------------------------------
function screenPop(d) {
  channel = d.channel_id;
  $('call').hidden = false;
  $('call-title').textContent = [d.name || T.unknown_caller, d.post, d.committee, d.phone].filter(Boolean).join(' · ');
  const booth = d.booth ? `${T.booth} ${d.booth.number} ${d.booth.name} (${T['status_' + d.booth.status] || d.booth.status})` : '';
  $('call-who').textContent = [booth, d.ac ? `${d.ac.number} ${d.ac.name}` : '', d.district || ''].filter(Boolean).join(' · ');
  $('call-note').textContent = d.note || '';
  const script = $('call-script'); script.replaceChildren();
  (d.script || []).forEach((line) => { const li = document.createElement('li'); li.textContent = line; script.append(li); });
  $('call-history').textContent = (d.past_calls || []).map((c) => `${c.at.slice(0, 16)} ${c.script}: ${c.result || ''} ${c.answers.map((a) => a.question + '=' + (a.value || a.key)).join(', ')}`).join(' | ');
  $('call-tickets').textContent = (d.open_tickets || []).map((x) => `#${x.id} ${x.category} (${x.status})`).join(', ');
  $('dispo-result').textContent = '';
}
$('ticket').addEventListener('submit', async (e) => {
  e.preventDefault();
  try {
    const r = await post('/console/ticket', { channel_id: channel, category: $('ticket-category').value,
                                              description: $('ticket-text').value });
    $('ticket-result').textContent = T.saved + ' #' + r.id;
  } catch (err) { $('ticket-result').textContent = err.message; }
});
$('give-pin').addEventListener('click', async () => {
  try {
    const r = await post('/console/pin', { channel_id: channel });
    $('pin-result').textContent = `${T.pin_for} ${r.name}: ${r.pin}`;
  } catch (err) { $('pin-result').textContent = err.message; }
});
$('dispo').addEventListener('submit', async (e) => {
  e.preventDefault();
  const when = $('dispo-when').value;
  try {
    const r = await post('/console/disposition', { channel_id: channel, disposition: $('dispo-kind').value,
                                                   notes: $('dispo-notes').value || null,
                                                   callback_at: when ? new Date(when).toISOString() : null });
    $('dispo-result').textContent = T.saved + ' #' + r.id;
  } catch (err) { $('dispo-result').textContent = err.message; }
});

// -- call-back tasks: abandoned calls to call back by hand (take one, call, save the outcome) -----------------
let cbCurrent = null;  // the task the outcome form is for (one this operator took)
function cbButton(text, onClick) {
  const b = document.createElement('button'); b.type = 'button'; b.textContent = text;
  b.addEventListener('click', onClick); return b;
}
function cbSelect(task) {
  cbCurrent = task ? task.id : null;
  $('cb-form').hidden = !task;
  if (task) {
    $('cb-who').textContent = `${task.person || T.unknown_caller} · ${task.phone}`;
    $('cb-form').dataset.task = String(task.id);
  }
}
async function loadCallbacks() {
  const r = await fetch('/console/callbacks');
  if (!r.ok) return;
  const tasks = await r.json();
  $('cb-list').replaceChildren(...tasks.map((task) => {
    const tr = document.createElement('tr');
    tr.dataset.task = String(task.id); tr.dataset.state = task.state;
    const when = new Date(task.abandoned_at);
    for (const text of [task.person || T.unknown_caller, task.mine ? `${task.phone} (${T.cb_mine})` : task.phone,
                        task.campaign || '', when.toLocaleString(), task.reason]) {
      const td = document.createElement('td'); td.textContent = text; tr.append(td);
    }
    const td = document.createElement('td');
    if (task.mine) td.append(cbButton(T.cb_close, () => cbSelect(task)));
    else td.append(cbButton(T.cb_take, () => cbTake(task.id)));
    tr.append(td);
    return tr;
  }));
  $('cb-table').hidden = tasks.length === 0;
  $('cb-none').hidden = tasks.length > 0;
  $('cb-count').textContent = tasks.length ? `(${tasks.length})` : '';
  const mine = tasks.filter((task) => task.mine);
  cbSelect(mine.find((task) => task.id === cbCurrent) || mine[0] || null);
}
async function cbTake(id) {
  $('cb-result').textContent = '';
  try { await post(`/console/callbacks/${id}/take`, {}); cbCurrent = id; }
  catch (err) { $('cb-result').textContent = err.message; }
  await loadCallbacks();
}
$('cb-release').addEventListener('click', async () => {
  if (cbCurrent === null) return;
  try { await post(`/console/callbacks/${cbCurrent}/release`, {}); cbCurrent = null; }
  catch (err) { $('cb-result').textContent = err.message; }
  await loadCallbacks();
});
$('cb-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (cbCurrent === null) return;
  const when = $('cb-when').value;
  try {
    const r = await post(`/console/callbacks/${cbCurrent}/close`, {
      outcome: $('cb-outcome').value, notes: $('cb-notes').value || null,
      callback_at: when ? new Date(when).toISOString() : null });
    $('cb-result').textContent = `${T.cb_closed} #${r.id}`;
    $('cb-notes').value = ''; $('cb-when').value = ''; cbCurrent = null;
  } catch (err) { $('cb-result').textContent = err.message; }
  await loadCallbacks();
});
loadCallbacks();
setInterval(loadCallbacks, 60000);  // the feed says when tasks change; this catches a missed message

const es = new EventSource('/console/events');
es.addEventListener('snapshot', (e) => showState(JSON.parse(e.data)));
es.addEventListener('state', (e) => showState(JSON.parse(e.data)));
es.addEventListener('screen_pop', (e) => screenPop(JSON.parse(e.data)));
es.addEventListener('callbacks', () => { loadCallbacks(); });
es.addEventListener('signed_out', () => { es.close(); phone.close(); location.assign('/signin?next=/console'); });
es.addEventListener('call', (e) => { const c = JSON.parse(e.data); $('call-title').dataset.what = c.what; });
showKind();
