"""Generate the phone farm's SIPp UAS scenario (``tests/sipp/phonefarm/phonefarm.xml`` is its rendered copy).

One scenario serves every number: it looks the Request-URI user part up in the injection file
(``-inf numbers.csv -infindex numbers.csv 0`` + ``<lookup>``) and branches on the behaviour found there.
Waits are loops of 100 ms ``recv BYE`` timeouts up to a wall-clock deadline, so the far end may hang up at
any moment. Digits are played from RFC 2833 captures made per key and position (``sandbox/rtp_pcap.py``),
one branch each (a pcap name cannot come from a variable).
"""

from __future__ import annotations

MAX_DIGITS = 8
KEYS = {str(d): str(d) for d in range(10)} | {"*": "star", "#": "pound"}
FINALS = {"busy": "486 Busy Here", "congestion": "503 Service Unavailable", "notfound": "404 Not Found",
          "unavailable": "480 Temporarily Unavailable"}
FIELDS = ["number", "kind", "hold_ms", "delay_ms", "gap_ms", "voice_ms"] + [f"d{i}" for i in range(MAX_DIGITS)]
VOICE_PCAP = "voice.pcap"  # in the farm's working directory (sandbox/rtp_pcap.py makes it)
DTMF_DIR = "dtmf"          # <press>_<key>.pcap, also made by sandbox/rtp_pcap.py

RESPONSE = """  <send>
    <![CDATA[
      SIP/2.0 {status}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]farm[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
"""

OK_SDP = """  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]farm[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=farm 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=sendrecv
    ]]>
  </send>
"""

OUR_BYE = """  <send retrans="500">
    <![CDATA[
      BYE [$contact] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: [$to_hdr];tag=[pid]farm[call_number]
      To: [$from_hdr]
      [last_Call-ID:]
      CSeq: 2 BYE
      Max-Forwards: 70
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Length: 0

    ]]>
  </send>
"""


def _field(i: int) -> str:
    return f'[field{i} file=&quot;numbers.csv&quot; line=&quot;[$line]&quot;]'


def _log(event: str) -> str:
    return f'<log message="farm [clock_tick] [call_id] [$num] [$kind] {event}"/>'


def _wait(label: str, variable: str, then: str) -> str:
    """Wait ``variable`` ms in 100 ms steps, leaving for ``far_bye`` as soon as a BYE arrives.

    The end is a wall-clock deadline, not a count of steps: a loaded SIPp runs each 100 ms step late, and a
    phone that counted steps would stay on the line longer the busier the farm is (seconds over a call).
    """
    now = '<gettimeofday assign_to="t_s,t_us"/><multiply assign_to="t_s" value="1000"/>' \
          '<divide assign_to="t_us" value="1000"/>'
    start = (f'{now}<assign assign_to="until" value="0"/><add assign_to="until" variable="t_s"/>'
             f'<add assign_to="until" variable="t_us"/><add assign_to="until" variable="{variable}"/>')
    # leave within 50 ms of the deadline (either side), so a wait is as long as asked on average
    tick = (f'{now}<assign assign_to="left" value="0"/><add assign_to="left" variable="until"/>'
            '<subtract assign_to="left" variable="t_s"/><subtract assign_to="left" variable="t_us"/>'
            '<test assign_to="more" variable="left" compare="greater_than" value="50"/>')
    return f"""  <nop><action>{start}</action></nop>
  <label id="{label}"/>
  <recv request="BYE" timeout="100" ontimeout="{label}_tick" next="far_bye"/>
  <label id="{label}_tick"/>
  <nop><action>{tick}</action></nop>
  <nop next="{label}" test="more"/>
  <nop next="{then}"/>
"""


def render() -> str:
    """The scenario XML.

    A BYE that comes while a call runs the nops between two of its waits' 100 ms receives would be
    "unexpected" there, and SIPp would drop the call unlogged. An ``optional="global"`` receive takes it, but
    SIPp looks for one only *before* the call's place in the scenario, so it sits before the ACK's receive
    (SIPp refuses an optional receive followed by a nop).
    """
    out = ['<?xml version="1.0" encoding="ISO-8859-1" ?>', '<scenario name="warroom phone farm">']
    out.append(f"""  <recv request="INVITE">
    <action>
      <ereg regexp="^INVITE sip:([^@;>]+)@" search_in="msg" check_it="true" assign_to="junk,num"/>
      <ereg regexp="(sips?:[^&gt;; ]+)" search_in="hdr" header="Contact:" assign_to="junk2,contact"/>
      <ereg regexp="([0-9]+)" search_in="hdr" header="CSeq:" assign_to="junk3,invite_cseq"/>
      <ereg regexp=".*" search_in="hdr" header="From:" assign_to="from_hdr"/>
      <ereg regexp="^[^;]*" search_in="hdr" header="To:" assign_to="to_hdr"/>
      <lookup assign_to="line" file="numbers.csv" key="[$num]"/>
      <test assign_to="unlisted" variable="line" compare="equal" value="-1"/>
    </action>
  </recv>
  <nop next="use_default" test="unlisted"/>
  <nop next="have_line"/>
  <label id="use_default"/>
  <nop><action><lookup assign_to="line" file="numbers.csv" key="default"/></action></nop>
  <label id="have_line"/>
  <nop>
    <action>
      <assignstr assign_to="kind" value="{_field(1)}"/>
      <assignstr assign_to="hold_s" value="{_field(2)}"/>
      <assignstr assign_to="delay_s" value="{_field(3)}"/>
      <assignstr assign_to="gap_s" value="{_field(4)}"/>
      <assignstr assign_to="voice_s" value="{_field(5)}"/>
      <todouble assign_to="hold" variable="hold_s"/>
      <todouble assign_to="voice" variable="voice_s"/>
      <todouble assign_to="delay" variable="delay_s"/>
      <todouble assign_to="gap" variable="gap_s"/>
      {_log("invite")}
    </action>
  </nop>
""")
    for kind in [*FINALS, "noanswer"]:
        out.append(f'  <nop><action><strcmp assign_to="c_{kind}" variable="kind" value="{kind}"/>'
                   f'<test assign_to="is_{kind}" variable="c_{kind}" compare="equal" value="0"/></action></nop>\n'
                   f'  <nop next="k_{kind}" test="is_{kind}"/>\n')
    # answer / silent / hangup: ring, answer, wait, press digits, hold, then BYE
    out.append(RESPONSE.format(status="180 Ringing"))
    out.append(OK_SDP)
    out.append('  <recv request="BYE" optional="global" next="far_bye"/>\n')  # see the docstring
    out.append(f'  <recv request="ACK"><action>{_log("answered")}</action></recv>\n')
    out.append(_wait("delay", "delay", "digit0"))
    for i in range(MAX_DIGITS):
        nxt = f"digit{i + 1}" if i + 1 < MAX_DIGITS else "voice"
        out.append(f'  <label id="digit{i}"/>\n  <nop><action><assignstr assign_to="d" value="{_field(6 + i)}"/>'
                   f'<strcmp assign_to="c_none" variable="d" value="-"/><test assign_to="no_digit" variable="c_none" '
                   f'compare="equal" value="0"/></action></nop>\n  <nop next="voice" test="no_digit"/>\n')
        for key, name in KEYS.items():
            out.append(f'  <nop><action><strcmp assign_to="c_{i}_{name}" variable="d" value="{key}"/>'
                       f'<test assign_to="is_{i}_{name}" variable="c_{i}_{name}" compare="equal" value="0"/></action>'
                       f'</nop>\n  <nop next="play{i}_{name}" test="is_{i}_{name}"/>\n')
        out.append(f'  <nop next="{nxt}"/>\n')
        for key, name in KEYS.items():
            out.append(f'  <label id="play{i}_{name}"/>\n  <nop><action><exec play_pcap_audio="'
                       f'{DTMF_DIR}/{i}_{name}.pcap"/>{_log(f"digit {key}")}</action></nop>\n'
                       f'  <nop next="gap{i}"/>\n')
        out.append(f'  <label id="gap{i}"/>\n' + _wait(f"gapwait{i}", "gap", nxt))
    # voice: voice_ms after the last digit, speak (the capture plays on while the scenario goes on)
    out.append('  <label id="voice"/>\n  <nop><action><test assign_to="talks" variable="voice" '
               'compare="greater_than" value="0"/></action></nop>\n  <nop next="voicewait0" test="talks"/>\n'
               '  <nop next="hold"/>\n  <label id="voicewait0"/>\n' + _wait("voicewait", "voice", "speak"))
    out.append(f'  <label id="speak"/>\n  <nop><action><exec play_pcap_audio="{VOICE_PCAP}"/>{_log("voice")}'
               '</action></nop>\n')
    out.append('  <label id="hold"/>\n' + _wait("holdwait", "hold", "our_bye"))
    out.append('  <label id="our_bye"/>\n' + OUR_BYE)
    out.append(f'  <recv response="200" next="end"><action>{_log("farm_bye")}</action></recv>\n')
    out.append(f'  <label id="far_bye"/>\n  <nop><action>{_log("far_bye")}</action></nop>\n')
    out.append(RESPONSE.format(status="200 OK").replace("<send>", '<send next="end">', 1))
    for kind, status in FINALS.items():
        out.append(f'  <label id="k_{kind}"/>\n  <nop><action>{_log("final " + status[:3])}</action></nop>\n')
        out.append(RESPONSE.format(status=status))
        out.append('  <recv request="ACK" next="end"/>\n')
    out.append('  <label id="k_noanswer"/>\n' + RESPONSE.format(status="180 Ringing"))
    out.append(f'  <recv request="CANCEL"><action>{_log("cancel")}</action></recv>\n')
    out.append(RESPONSE.format(status="200 OK"))
    out.append(RESPONSE.format(status="487 Request Terminated").replace("[last_CSeq:]",
                                                                       "CSeq: [$invite_cseq] INVITE"))
    out.append('  <recv request="ACK" next="end"/>\n')
    out.append('  <label id="end"/>\n  <Reference variables="junk,junk2,junk3"/>\n</scenario>\n')
    return "".join(out)
