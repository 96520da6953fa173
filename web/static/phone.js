// The phone in the browser (issue 19): a small wrapper over SIP.js (installed from the npm registry, served
// by the service under /static/vendor/sip.js) used by the operators' console and the supervisors' dashboard.
//
// It registers the user's browser phone (op-<user>-web) over Asterisk's secure WebSocket with credentials
// the service makes for this signed-in session (POST /phone/credentials: never shown, never typed), rings,
// answers, hangs up, mutes, holds, sends DTMF (RFC 4733), measures the microphone and the call's quality
// (RTCPeerConnection.getStats()). It holds a lock so one browser has one phone (a second tab is told so).
// It speaks no language: it reports codes ("mic_denied", "lost", ...) that the page turns into words.
import { Registerer, RegistererState, SessionState, UserAgent, Web } from './vendor/sip.js/index.js';

const LOCK = 'warroom-browser-phone';

export class BrowserPhone {
  // options: csrf (the session's CSRF token), audio (an <audio> element for the far end), and callbacks:
  // onStatus(status), onMessage(code, detail), onIncoming({name, number}), onCall(state), onLevel(0..1)
  constructor(options) {
    this.o = options;
    this.status = 'off';       // off, registering, registered, error
    this.call = null;          // the SIP.js session (an Invitation) ringing or in progress
    this.callState = 'idle';   // idle, ringing, connecting, connected, ended
    this.muted = false;
    this.held = false;
    this.wanted = false;       // registered is wanted (between register() and unregister())
    this.mic = null;
    this.ua = null;
    this.registerer = null;
    this.lockReleased = null;
  }

  emit(name, ...args) { const f = this.o[name]; if (f) f(...args); }
  setStatus(status) { this.status = status; this.emit('onStatus', status); }
  setCall(state) { this.callState = state; this.emit('onCall', state); }

  // One phone per browser: the first tab takes the lock and keeps it until it closes.
  async lock() {
    if (this.lockReleased) return true;
    if (!navigator.locks) return true;  // an old browser: no check
    return new Promise((resolve) => {
      navigator.locks.request(LOCK, { ifAvailable: true }, (lock) => {
        if (!lock) { resolve(false); return undefined; }
        resolve(true);
        return new Promise((release) => { this.lockReleased = release; });
      });
    });
  }

  // The microphone: asked once (the browser remembers the answer), measured for the level meter.
  async microphone() {
    if (this.mic && this.mic.getAudioTracks().some((t) => t.readyState === 'live')) return this.mic;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) throw new PhoneError('no_media');
    try {
      this.mic = await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
    } catch (e) {
      if (e && (e.name === 'NotAllowedError' || e.name === 'SecurityError')) throw new PhoneError('mic_denied');
      if (e && (e.name === 'NotFoundError' || e.name === 'OverconstrainedError')) throw new PhoneError('mic_missing');
      throw new PhoneError('mic_failed', String(e && e.message || e));
    }
    this.meter(this.mic);
    return this.mic;
  }

  meter(stream) {
    try {
      this.audioContext = this.audioContext || new AudioContext();
      const analyser = this.audioContext.createAnalyser();
      analyser.fftSize = 512;
      this.audioContext.createMediaStreamSource(stream).connect(analyser);
      const data = new Float32Array(analyser.fftSize);
      clearInterval(this.meterTimer);
      this.meterTimer = setInterval(() => {
        analyser.getFloatTimeDomainData(data);
        let sum = 0;
        for (const v of data) sum += v * v;
        this.emit('onLevel', Math.min(1, Math.sqrt(sum / data.length) * 4));
      }, 100);
    } catch (e) { /* no meter: the phone works without it */ }
  }

  // Register (when the operator goes ready, or a supervisor opens the dashboard). Resolves once
  // registered; rejects with a PhoneError whose code says why.
  async register() {
    this.wanted = true;
    if (this.status === 'registered' && this.ua && this.ua.isConnected()) return;
    if (!(await this.lock())) { this.wanted = false; throw this.fail('second_tab'); }
    this.setStatus('registering');
    let mic;
    try { mic = await this.microphone(); } catch (e) { this.wanted = false; this.setStatus('error'); this.emit('onMessage', e.code, e.detail); throw e; }
    const creds = await this.credentials();
    if (!this.ua || this.ua.endpoint !== creds.endpoint || this.ua.secret !== creds.secret) await this.build(creds, mic);
    try {
      await this.connect();
    } catch (e) {
      this.setStatus('error');
      throw this.fail('lost', creds.ws_url);
    }
    // a new secret reaches Asterisk within moments: a refusal is retried for a few seconds
    for (let i = 0; ; i++) {
      const answer = await this.sendRegister();
      if (answer === 'registered') break;
      if (i >= 12 || !this.wanted) { this.setStatus('error'); throw this.fail('refused', answer); }
      await sleep(creds.fresh ? 500 : 1500);
    }
    this.setStatus('registered');
    this.emit('onMessage', 'registered');
  }

  fail(code, detail) { this.emit('onMessage', code, detail); return new PhoneError(code, detail); }

  async credentials() {
    const r = await fetch('/phone/credentials', { method: 'POST', headers: { 'X-CSRF-Token': this.o.csrf }, cache: 'no-store' });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) { this.setStatus('error'); throw this.fail('no_credentials', body.detail || r.statusText); }
    return body;
  }

  async build(creds, mic) {
    await this.stopUa();
    const host = new URL(creds.ws_url.replace(/^ws/, 'http')).hostname;
    const ua = new UserAgent({
      uri: UserAgent.makeURI(`sip:${creds.endpoint}@${host}`),
      authorizationUsername: creds.endpoint,
      authorizationPassword: creds.secret,
      transportOptions: { server: creds.ws_url, traceSip: false },
      userAgentString: 'warroom-browser-phone',
      logLevel: 'error',
      logBuiltinEnabled: false,
      // no STUN or TURN: host candidates only (the war room's own network)
      sessionDescriptionHandlerFactoryOptions: { peerConnectionConfiguration: { iceServers: [] }, iceGatheringTimeout: 1000 },
      // every call uses a copy of the microphone already measured (asked once, not per call)
      sessionDescriptionHandlerFactory: Web.defaultSessionDescriptionHandlerFactory(
        () => Promise.resolve(new MediaStream(mic.getAudioTracks().map((t) => t.clone())))),
      delegate: {
        onInvite: (invitation) => this.incoming(invitation),
        onDisconnect: (error) => this.disconnected(error),
        onConnect: () => this.reconnected(),
      },
    });
    ua.endpoint = creds.endpoint;
    ua.secret = creds.secret;
    this.ua = ua;
    this.registerer = new Registerer(ua, { expires: 300 });
    this.registerer.stateChange.addListener((state) => {
      if (state === RegistererState.Unregistered && this.status === 'registered') this.setStatus(this.wanted ? 'registering' : 'off');
    });
  }

  async connect() {
    if (this.ua.isConnected()) return;
    if (this.ua.state === 'Started') await this.ua.reconnect(); else await this.ua.start();
  }

  sendRegister() {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve('no answer'), 8000);
      const done = (answer) => { clearTimeout(timer); resolve(answer); };
      this.registerer.register({ requestDelegate: {
        onAccept: () => done('registered'),
        onReject: (response) => done(`${response.message.statusCode} ${response.message.reasonPhrase}`),
      } }).catch((e) => done(String(e && e.message || e)));
    });
  }

  // Unregister (pause, off duty, signing out). A call in progress is left to end first.
  async unregister() {
    this.wanted = false;
    if (this.registerer && this.registerer.state === RegistererState.Registered) {
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 3000);
        this.registerer.unregister({ requestDelegate: { onAccept: () => { clearTimeout(timer); resolve(); },
                                                          onReject: () => { clearTimeout(timer); resolve(); } } })
          .catch(() => { clearTimeout(timer); resolve(); });
      });
    }
    if (!this.call) await this.stopUa();
    this.setStatus('off');
  }

  async stopUa() {
    const ua = this.ua;
    this.ua = null;
    this.registerer = null;
    if (ua) { try { await ua.stop(); } catch (e) { /* already stopped */ } }
  }

  disconnected(error) {
    if (!this.wanted) return;
    this.lost = true;
    this.setStatus('error');
    this.emit('onMessage', 'lost', error ? String(error.message || error) : '');
    this.retry(1000);
  }

  retry(delay) {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(async () => {
      if (!this.wanted || !this.ua) return;
      try { await this.ua.reconnect(); } catch (e) { this.retry(Math.min(delay * 2, 30000)); }
    }, delay);
  }

  async reconnected() {
    if (!this.wanted || !this.lost) return;  // the first connection: register() registers
    this.lost = false;
    if ((await this.sendRegister()) === 'registered') { this.setStatus('registered'); this.emit('onMessage', 'registered'); }
  }

  // -- calls ------------------------------------------------------------------------------------------
  incoming(invitation) {
    if (this.call) { invitation.reject({ statusCode: 486 }); return; }  // one call at a time
    this.call = invitation;
    this.muted = false;
    this.held = false;
    const who = invitation.remoteIdentity;
    invitation.stateChange.addListener((state) => {
      if (state === SessionState.Established) { this.ring(false); this.setCall('connected'); this.attach(invitation); this.watch(invitation); }
      if (state === SessionState.Terminated) this.ended(invitation);
    });
    this.setCall('ringing');
    this.ring(true);
    this.emit('onIncoming', { name: who.displayName || '', number: who.uri.user || '' });
  }

  async answer() {
    const call = this.call;
    if (!call || this.callState !== 'ringing') return false;
    this.setCall('connecting');
    try {
      await call.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
    } catch (e) {
      this.emit('onMessage', 'answer_failed', String(e && e.message || e));
      return false;
    }
    return true;
  }

  async hangup() {
    const call = this.call;
    if (!call) return false;
    this.ring(false);
    if (call.state === SessionState.Initial || call.state === SessionState.Establishing) {
      if (this.callState === 'ringing') await call.reject(); else await call.bye().catch(() => call.dispose());
    } else if (call.state === SessionState.Established) {
      await this.final();
      await call.bye();
    }
    return true;
  }

  ended(call) {
    if (this.call !== call) return;
    this.ring(false);
    clearInterval(this.statsTimer);
    if (this.callState === 'connected') this.final();
    this.call = null;
    this.setCall('ended');
    if (this.o.audio) this.o.audio.srcObject = null;
    if (!this.wanted) this.stopUa();
  }

  attach(call) {
    const sdh = call.sessionDescriptionHandler;
    if (!sdh || !this.o.audio) return;
    this.o.audio.srcObject = sdh.remoteMediaStream;
    this.o.audio.play().catch(() => this.emit('onMessage', 'autoplay'));
  }

  mute(on = !this.muted) {
    const sdh = this.call && this.call.sessionDescriptionHandler;
    if (!sdh || this.callState !== 'connected') return this.muted;
    sdh.enableSenderTracks(!on);
    this.muted = on;
    return on;
  }

  async hold(on = !this.held) {
    const call = this.call;
    if (!call || this.callState !== 'connected') return this.held;
    call.sessionDescriptionHandlerOptionsReInvite = { hold: on };
    try {
      await call.invite({ requestDelegate: { onAccept: () => { this.held = on; this.emit('onCall', 'connected'); } } });
    } catch (e) { this.emit('onMessage', 'hold_failed', String(e && e.message || e)); }
    return on;
  }

  dtmf(tone) {
    const sdh = this.call && this.call.sessionDescriptionHandler;
    if (!sdh || this.callState !== 'connected' || !/^[0-9*#]$/.test(tone)) return false;
    return sdh.sendDtmf(tone, { duration: 120, interToneGap: 70 });
  }

  // -- quality ----------------------------------------------------------------------------------------
  // The call's WebRTC statistics: packets received, lost and sent, jitter and round trip (ms), codec.
  async stats() {
    const sdh = this.call && this.call.sessionDescriptionHandler;
    const pc = sdh && sdh.peerConnection;
    if (!pc) return null;
    const out = { packets_received: 0, packets_lost: 0, packets_sent: 0, jitter_ms: null, rtt_ms: null, codec: null,
                  audio_energy: 0 };
    const reports = await pc.getStats();
    const codecs = {};
    reports.forEach((r) => { if (r.type === 'codec') codecs[r.id] = r.mimeType; });
    reports.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'audio') {
        out.packets_received += r.packetsReceived || 0;
        out.packets_lost += r.packetsLost || 0;
        if (r.jitter !== undefined) out.jitter_ms = r.jitter * 1000;
        out.audio_energy += r.totalAudioEnergy || 0;
        if (r.codecId && codecs[r.codecId]) out.codec = codecs[r.codecId].replace(/^audio\//, '');
      } else if (r.type === 'outbound-rtp' && r.kind === 'audio') {
        out.packets_sent += r.packetsSent || 0;
      } else if (r.type === 'remote-inbound-rtp' && r.roundTripTime !== undefined) {
        out.rtt_ms = r.roundTripTime * 1000;
      } else if (r.type === 'candidate-pair' && r.nominated && r.currentRoundTripTime !== undefined && out.rtt_ms === null) {
        out.rtt_ms = r.currentRoundTripTime * 1000;
      }
    });
    return out;
  }

  // the call's last sample, once (hanging up here, or the far end hanging up)
  final() {
    if (!this.finalReport) this.finalReport = this.report(true);
    return this.finalReport;
  }

  watch(call) {
    this.finalReport = null;
    clearInterval(this.statsTimer);
    this.statsTimer = setInterval(() => { if (this.call === call) this.report(false); }, 5000);
  }

  async report(ended) {
    const s = await this.stats().catch(() => null);
    if (s && this.o.onQuality) this.o.onQuality(s, ended);
    return s;
  }

  // -- the ring ---------------------------------------------------------------------------------------
  // An Indian ring (400 Hz, 0.4 s on, 0.2 off, 0.4 on, 2 s off), made by the page: no file to fetch.
  ring(on) {
    clearInterval(this.ringTimer);
    if (this.ringStop) { this.ringStop(); this.ringStop = null; }
    if (!on) return;
    try {
      const ctx = this.audioContext = this.audioContext || new AudioContext();
      const gain = ctx.createGain();
      gain.gain.value = 0;
      gain.connect(ctx.destination);
      const osc = ctx.createOscillator();
      osc.frequency.value = 400;
      osc.connect(gain);
      osc.start();
      const burst = () => {
        const t = ctx.currentTime;
        gain.gain.setValueAtTime(0.15, t); gain.gain.setValueAtTime(0, t + 0.4);
        gain.gain.setValueAtTime(0.15, t + 0.6); gain.gain.setValueAtTime(0, t + 1.0);
      };
      burst();
      this.ringTimer = setInterval(burst, 3000);
      this.ringStop = () => { osc.stop(); gain.disconnect(); };
    } catch (e) { /* no sound: the page still shows the call */ }
  }

  // Signing out or leaving the page: unregister, stop, let another tab have the phone.
  async close() {
    await this.unregister().catch(() => {});
    await this.stopUa();
    if (this.mic) this.mic.getTracks().forEach((t) => t.stop());
    clearInterval(this.meterTimer);
    if (this.lockReleased) { this.lockReleased(); this.lockReleased = null; }
  }
}

export class PhoneError extends Error {
  constructor(code, detail) { super(detail ? `${code}: ${detail}` : code); this.code = code; this.detail = detail; }
}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }
