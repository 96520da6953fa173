"""The consoles' words in English and Hindi."""

from __future__ import annotations

from dialer.pacing import REASONS

TEXTS: dict[str, dict[str, str]] = {
    "en": {"title": "War room", "sign_in": "Sign in", "username": "User name", "password": "Password",
           "sign_out": "Sign out", "language": "हिन्दी", "other_lang": "hi", "console": "Operator console",
           "ready": "Ready", "pause": "Pause", "pause_reason": "why (tea, meeting...)", "off_duty": "Off duty",
           "state_signed_out": "Off duty", "state_ready": "Ready", "state_on_call": "On a call",
           "state_wrap_up": "Wrap-up", "state_paused": "Paused", "softphone": "Softphone",
           "registered": "registered", "not_registered": "not registered: set it up with these settings",
           "sip_server": "Server", "disposition": "Outcome", "d_reached": "Reached",
           "d_wrong_number": "Wrong number", "d_call_back": "Call back later", "d_opted_out": "Does not want calls",
           "d_not_available": "Not available", "call_back_at": "Call back at", "notes": "Notes", "save": "Save",
           "saved": "Saved", "unknown_caller": "Unknown caller", "booth": "Booth", "status_strong": "strong",
           "status_weak": "weak", "status_swing": "swing", "status_unknown": "no status",
           "new_ticket": "A problem to report", "ticket_text": "what is the problem",
           "open_ticket": "Open ticket",
           "c_material_shortage": "Material shortage", "c_worker_shortage": "Worker shortage",
           "c_opposing_activity": "Opposing party's activity", "c_polling_day": "Polling-day issue",
           "c_other": "Other", "c_evm_vvpat": "EVM/VVPAT (urgent)",
           "c_agent_not_allowed": "Agent not allowed in (urgent)",
           "c_violence_capture": "Violence or booth capture (urgent)", "c_slow_queue": "Slow queue (urgent)",
           "c_poll_other": "Other poll-day problem (urgent)",
           "dashboard": "War-room dashboard", "lines": "Lines", "calls_now": "Calls now", "ringing": "Ringing",
           "in_ivr": "In IVR", "with_operators": "With operators", "waiting": "Waiting", "longest_wait": "longest",
           "per_minute": "Attempts / min", "answer_rate": "Answer rate", "avg_talk": "Avg talk",
           "abandon_rate": "Abandon rate", "campaigns": "Campaigns", "operators": "Operators", "charts": "Charts",
           "areas": "Areas", "tickets": "Tickets", "reports": "Reports", "resume": "Resume",
           "outreach": "Voter outreach", "listens": "Listens", "replies": "Replies", "opt_outs": "Opt-outs",
           "to_operator": "To an operator", "guarded": "Guarded (silent / < 2 s)", "finishes": "Finishes",
           "voice_messages": "Voice messages for the leader", "no_voice_messages": "No voice messages yet.",
           "listen": "Listen", "whisper": "Whisper", "barge": "Barge", "assign": "Assign", "resolve": "Resolve",
           "unverified": "unverified caller (no PIN)",
           "give_pin": "New hotline PIN (read it out)", "pin_for": "Hotline PIN for",
           "all": "All", "connection": "Live", "today": "today",
           "phone": "Phone", "phone_browser": "In this page", "phone_softphone": "My SIP softphone",
           "phone_off": "off", "phone_registering": "connecting…", "phone_registered": "ready to ring",
           "phone_error": "not connected", "mic_level": "Microphone",
           "phone_mic_denied": "The browser refused the microphone: allow it for this site (the icon left of the "
                               "address), then press Ready again.",
           "phone_mic_missing": "No microphone found: plug in the headset, then press Ready again.",
           "phone_no_media": "This browser cannot use a microphone here: open the console over HTTPS in a "
                             "current Chrome, Edge or Firefox.",
           "phone_second_tab": "The phone is open in another tab of this browser: use that tab, or close it and "
                               "reload this one.",
           "phone_lost": "Lost the connection to the phone server; trying again…",
           "phone_certificate": "If this goes on, open {url} once and accept its certificate.",
           "phone_refused": "The phone server refused this phone: reload the page (or sign in again).",
           "phone_autoplay": "The browser held the call's sound back: click anywhere on the page.",
           "answer": "Answer", "hang_up": "Hang up", "mute": "Mute", "unmute": "Unmute", "hold": "Hold",
           "resume_call": "Resume", "keypad": "Keys", "call_idle": "", "call_ringing": "Ringing",
           "call_connecting": "Connecting…", "call_connected": "On the call", "call_ended": "Call ended",
           "quality": "Call quality", "transfer": "Hand over", "transfer_to": "to",
           "transfer_ringing": "Ringing the supervisor…",
           "cb_title": "Call-back tasks",
           "cb_hint": "People whose answered call no operator took in time. Take one (nobody else will call "
                      "them), call the number by hand, then save what came of it.",
           "cb_none": "No call-back tasks.", "cb_person": "Person", "cb_phone": "Phone", "cb_campaign": "Campaign",
           "cb_when": "Abandoned at", "cb_why": "Why", "cb_take": "Take", "cb_release": "Give back",
           "cb_close": "Save outcome", "cb_mine": "yours: call this number", "cb_no_answer": "No answer",
           "cb_closed": "Saved: call-back task"},
    "hi": {"title": "वार रूम", "sign_in": "साइन इन करें", "username": "उपयोगकर्ता नाम", "password": "पासवर्ड",
           "sign_out": "साइन आउट", "language": "English", "other_lang": "en", "console": "ऑपरेटर कंसोल",
           "ready": "तैयार", "pause": "विराम", "pause_reason": "कारण (चाय, बैठक...)", "off_duty": "ड्यूटी समाप्त",
           "state_signed_out": "ड्यूटी पर नहीं", "state_ready": "तैयार", "state_on_call": "कॉल पर",
           "state_wrap_up": "कॉल के बाद का काम", "state_paused": "विराम", "softphone": "सॉफ्टफोन",
           "registered": "जुड़ा हुआ", "not_registered": "जुड़ा नहीं: इन सेटिंग से जोड़ें",
           "sip_server": "सर्वर", "disposition": "नतीजा", "d_reached": "बात हुई", "d_wrong_number": "गलत नंबर",
           "d_call_back": "बाद में कॉल करें", "d_opted_out": "कॉल नहीं चाहते", "d_not_available": "उपलब्ध नहीं",
           "call_back_at": "कब कॉल करें", "notes": "टिप्पणी", "save": "सहेजें", "saved": "सहेजा गया",
           "unknown_caller": "अज्ञात कॉलर", "booth": "बूथ", "status_strong": "मज़बूत", "status_weak": "कमज़ोर",
           "status_swing": "कांटे का", "status_unknown": "स्थिति नहीं",
           "new_ticket": "दर्ज करने की समस्या", "ticket_text": "समस्या क्या है", "open_ticket": "शिकायत दर्ज करें",
           "c_material_shortage": "सामग्री की कमी", "c_worker_shortage": "कार्यकर्ताओं की कमी",
           "c_opposing_activity": "विरोधी दल की गतिविधि", "c_polling_day": "मतदान दिवस की समस्या", "c_other": "अन्य",
           "c_evm_vvpat": "ईवीएम/वीवीपैट (तुरंत)", "c_agent_not_allowed": "एजेंट को रोका (तुरंत)",
           "c_violence_capture": "हिंसा या बूथ कैप्चरिंग (तुरंत)", "c_slow_queue": "धीमी कतार (तुरंत)",
           "c_poll_other": "मतदान दिवस की अन्य समस्या (तुरंत)",
           "dashboard": "वार रूम डैशबोर्ड", "lines": "लाइनें", "calls_now": "अभी की कॉल", "ringing": "घंटी बज रही",
           "in_ivr": "IVR में", "with_operators": "ऑपरेटर के साथ", "waiting": "प्रतीक्षा में", "longest_wait": "सबसे लंबी",
           "per_minute": "प्रयास / मिनट", "answer_rate": "उत्तर दर", "avg_talk": "औसत बातचीत",
           "abandon_rate": "छोड़ी गई कॉल", "campaigns": "अभियान", "operators": "ऑपरेटर", "charts": "चार्ट",
           "areas": "क्षेत्र", "tickets": "शिकायतें", "reports": "रिपोर्ट", "resume": "फिर शुरू करें",
           "outreach": "मतदाता जनसंपर्क", "listens": "सुना", "replies": "संदेश", "opt_outs": "कॉल बंद",
           "to_operator": "साथी से बात", "guarded": "संदिग्ध (चुप / 2 सेकंड से कम)", "finishes": "पूरा होगा",
           "voice_messages": "नेता के लिए संदेश", "no_voice_messages": "अभी कोई संदेश नहीं।",
           "listen": "सुनें", "whisper": "फुसफुसाएँ", "barge": "बातचीत में जुड़ें", "assign": "सौंपें", "resolve": "हल करें",
           "unverified": "कॉलर की पुष्टि नहीं (पिन नहीं)",
           "give_pin": "नया हॉटलाइन पिन (पढ़कर सुनाएँ)", "pin_for": "हॉटलाइन पिन:",
           "all": "सभी", "connection": "लाइव", "today": "आज",
           "phone": "फ़ोन", "phone_browser": "इसी पेज में", "phone_softphone": "मेरा SIP सॉफ्टफोन",
           "phone_off": "बंद", "phone_registering": "जुड़ रहा है…", "phone_registered": "घंटी के लिए तैयार",
           "phone_error": "जुड़ा नहीं", "mic_level": "माइक्रोफ़ोन",
           "phone_mic_denied": "ब्राउज़र ने माइक्रोफ़ोन की अनुमति नहीं दी: इस साइट के लिए अनुमति दें (पते के बाईं ओर "
                               "का चिह्न), फिर दोबारा तैयार दबाएँ।",
           "phone_mic_missing": "माइक्रोफ़ोन नहीं मिला: हेडसेट लगाएँ, फिर दोबारा तैयार दबाएँ।",
           "phone_no_media": "यह ब्राउज़र यहाँ माइक्रोफ़ोन नहीं चला सकता: कंसोल HTTPS पर नए Chrome, Edge या "
                             "Firefox में खोलें।",
           "phone_second_tab": "फ़ोन इस ब्राउज़र के दूसरे टैब में खुला है: वही टैब इस्तेमाल करें, या उसे बंद करके यह "
                               "पेज दोबारा खोलें।",
           "phone_lost": "फ़ोन सर्वर से संपर्क टूट गया; फिर से कोशिश हो रही है…",
           "phone_certificate": "अगर ऐसा ही रहे, तो {url} एक बार खोलकर उसका प्रमाणपत्र स्वीकार करें।",
           "phone_refused": "फ़ोन सर्वर ने यह फ़ोन नहीं माना: पेज दोबारा खोलें (या फिर से साइन इन करें)।",
           "phone_autoplay": "ब्राउज़र ने कॉल की आवाज़ रोकी है: पेज पर कहीं भी क्लिक करें।",
           "answer": "उठाएँ", "hang_up": "काटें", "mute": "म्यूट", "unmute": "आवाज़ चालू", "hold": "होल्ड",
           "resume_call": "फिर जोड़ें", "keypad": "बटन", "call_idle": "", "call_ringing": "घंटी बज रही है",
           "call_connecting": "जुड़ रहा है…", "call_connected": "कॉल पर", "call_ended": "कॉल समाप्त",
           "quality": "कॉल की गुणवत्ता", "transfer": "कॉल सौंपें", "transfer_to": "किसे",
           "transfer_ringing": "सुपरवाइज़र को घंटी जा रही है…",
           "cb_title": "वापस कॉल करने के काम",
           "cb_hint": "जिनकी उठाई गई कॉल समय पर किसी ऑपरेटर तक नहीं पहुँची। एक काम लें (फिर कोई और उन्हें कॉल नहीं "
                      "करेगा), नंबर खुद मिलाएँ, फिर नतीजा सहेजें।",
           "cb_none": "वापस कॉल करने का कोई काम नहीं।", "cb_person": "व्यक्ति", "cb_phone": "फ़ोन",
           "cb_campaign": "अभियान", "cb_when": "कॉल कब छूटी", "cb_why": "कारण", "cb_take": "लें",
           "cb_release": "वापस दें", "cb_close": "नतीजा सहेजें", "cb_mine": "आपका: इस नंबर पर कॉल करें",
           "cb_no_answer": "किसी ने नहीं उठाया", "cb_closed": "सहेजा गया: वापस कॉल का काम"},
}


# The pacing card (dashboard) and a campaign's pacing form: "pc_" labels, "pr_" the pacer's reasons (their
# English is dialer.pacing.REASONS, the words the log uses; both languages must give every key).
PACING: dict[str, dict[str, str]] = {
    "en": {"pc_title": "Pacing", "pc_note": "(abandon rate over the last {n} min and today, against each "
                                            "campaign's cap)",
           "pc_campaign": "Campaign", "pc_mode": "Pacing", "pc_level": "Dial level",
           "pc_abandon_window": "Abandoned (window)", "pc_abandon_day": "Abandoned (today)", "pc_cap": "Cap",
           "pc_why": "Why", "pc_operators": "Operators", "pc_occupancy": "occupancy",
           "pc_wait": "wait between calls", "pc_seconds": "s", "pc_today": "today", "pc_rate": "{rate} of {n}",
           "pc_running": "{mode} (running {running})", "pc_progressive": "progressive",
           "pc_predictive": "predictive", "pc_state_running": "running", "pc_state_paused": "paused",
           "pc_state_draft": "draft", "pc_progressive_hint": "progressive: a call per ready operator",
           "pc_predictive_hint": "predictive: dial ahead, under the abandon cap",
           "pc_cap_percent": "Abandon cap (%)", "pc_save": "Save",
           "pc_hint": "Predictive falls back to progressive while there is too little data or the cap is near; "
                      "an abandoned call hears an apology and leaves a call-back task.",
           **{f"pr_{key}": text for key, text in REASONS.items()}},
    "hi": {"pc_title": "डायलिंग की गति", "pc_note": "(पिछले {n} मिनट और आज छोड़ी गई कॉल की दर, हर अभियान की "
                                                     "सीमा के सामने)",
           "pc_campaign": "अभियान", "pc_mode": "गति का तरीका", "pc_level": "डायल स्तर",
           "pc_abandon_window": "छोड़ी गई (अवधि में)", "pc_abandon_day": "छोड़ी गई (आज)", "pc_cap": "सीमा",
           "pc_why": "कारण", "pc_operators": "ऑपरेटर", "pc_occupancy": "व्यस्तता",
           "pc_wait": "कॉलों के बीच इंतज़ार", "pc_seconds": "सेकंड", "pc_today": "आज",
           "pc_rate": "{n} में से {rate}", "pc_running": "{mode} (अभी {running})", "pc_progressive": "प्रोग्रेसिव",
           "pc_predictive": "प्रेडिक्टिव", "pc_state_running": "चल रहा", "pc_state_paused": "विराम",
           "pc_state_draft": "ड्राफ़्ट", "pc_progressive_hint": "प्रोग्रेसिव: हर तैयार ऑपरेटर के लिए एक कॉल",
           "pc_predictive_hint": "प्रेडिक्टिव: पहले से डायल करें, छोड़ी गई कॉल की सीमा के भीतर",
           "pc_cap_percent": "छोड़ी गई कॉल की सीमा (%)", "pc_save": "सहेजें",
           "pc_hint": "जब तक आँकड़े कम हों या सीमा पास हो, प्रेडिक्टिव अपने आप प्रोग्रेसिव पर लौट आता है; छूटी "
                      "कॉल पर व्यक्ति माफ़ी सुनता है और उसे वापस कॉल करने का काम बनता है।",
           "pr_progressive": "प्रोग्रेसिव",
           "pr_few_operators": "प्रोग्रेसिव: {working} ऑपरेटर काम पर (अनुमान के लिए {needed} चाहिए)",
           "pr_few_answers": "प्रोग्रेसिव: आज {answered} कॉल उठीं (अनुमान के लिए {needed} चाहिए)",
           "pr_few_samples": "प्रोग्रेसिव: घंटी और बातचीत के समय के माप अभी बहुत कम",
           "pr_window_cap": "प्रोग्रेसिव: अवधि में छोड़ी गई कॉल की दर {rate}, सीमा {cap} पर",
           "pr_day_cap": "प्रोग्रेसिव: आज {answered} उठी कॉल में से {abandoned} छूटीं: सीमा {cap} पास",
           "pr_predictive": "प्रेडिक्टिव: मार्जिन {z} sd, उत्तर {rate}, सबसे कड़ा {ahead} सेकंड आगे"},
}
for _lang, _words in PACING.items():
    TEXTS[_lang].update(_words)


def pacing_words(language: str | None) -> dict[str, str]:
    """The pacing card's words (for its script): labels and the pacer's reasons."""
    return {k: v for k, v in texts(language).items() if k.startswith(("pc_", "pr_"))}


def texts(language: str | None) -> dict[str, str]:
    return TEXTS.get(language or "en", TEXTS["en"])
