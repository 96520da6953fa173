// The supervisor's phone in the dashboard (issue 19): registered while the dashboard is open, so listening
// in, whispering and barging ring it (POST /api/listen rings the supervisor's browser phone when it is
// registered, else their SIP softphone). A call that comes while a listen-in was just asked for is answered
// by itself; any other rings with an Answer button. Hang up to stop listening.
import { BrowserPhone } from './phone.js';

const box = document.getElementById('sup-phone');
const D = JSON.parse(document.getElementById('sup-phone-data').textContent);
const T = D.t;
const $ = (id) => document.getElementById(id);
let listenAskedAt = 0;

const MESSAGES = { mic_denied: T.phone_mic_denied, mic_missing: T.phone_mic_missing, no_media: T.phone_no_media,
                   second_tab: T.phone_second_tab, lost: T.phone_lost, refused: T.phone_refused,
                   no_credentials: T.phone_refused, autoplay: T.phone_autoplay };
const phone = new BrowserPhone({
  csrf: D.csrf,
  audio: $('sup-phone-audio'),
  onStatus: (status) => { $('sup-phone-status').dataset.status = status; $('sup-phone-status').textContent = T['phone_' + status] || status; },
  onMessage: (code, detail) => {
    let text = code === 'registered' ? '' : (MESSAGES[code] || code);
    if (code === 'lost' && detail && detail.startsWith('wss://')) text += ' ' + T.phone_certificate.replace('{url}', detail.replace(/^wss/, 'https'));
    $('sup-phone-message').textContent = text;
  },
  onLevel: (level) => { $('sup-mic-level').value = level; },
  onIncoming: () => { if (Date.now() - listenAskedAt < 30000) phone.answer(); },
  onCall: (state) => {
    $('sup-phone-call').dataset.state = state;
    $('sup-phone-call').textContent = T['call_' + state] || state;
    $('sup-phone-answer').disabled = state !== 'ringing';
    $('sup-phone-hangup').disabled = !['ringing', 'connecting', 'connected'].includes(state);
  },
});
window.warroomPhone = phone;  // for the browser tests (call statistics)

// a listen / whisper / barge button was pressed: the call that follows is the one asked for
document.addEventListener('click', (e) => {
  if (e.target instanceof Element && e.target.closest('button[data-mode]')) listenAskedAt = Date.now();
}, true);
$('sup-phone-answer').addEventListener('click', () => phone.answer());
$('sup-phone-hangup').addEventListener('click', () => phone.hangup());
const signout = document.querySelector('form[action="/signout"]');
if (signout) {
  signout.addEventListener('submit', async (e) => { e.preventDefault(); await phone.close(); signout.submit(); });
}
window.addEventListener('pagehide', () => { phone.close(); });
if (D.enabled) { box.hidden = false; phone.register().catch(() => {}); }
