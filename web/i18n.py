"""The consoles' words in English and Hindi."""

from __future__ import annotations

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
           "c_other": "Other",
           "dashboard": "War-room dashboard", "lines": "Lines", "calls_now": "Calls now", "ringing": "Ringing",
           "in_ivr": "In IVR", "with_operators": "With operators", "waiting": "Waiting", "longest_wait": "longest",
           "per_minute": "Attempts / min", "answer_rate": "Answer rate", "avg_talk": "Avg talk",
           "abandon_rate": "Abandon rate", "campaigns": "Campaigns", "operators": "Operators", "charts": "Charts",
           "areas": "Areas", "tickets": "Tickets", "reports": "Reports", "resume": "Resume",
           "listen": "Listen", "whisper": "Whisper", "barge": "Barge", "assign": "Assign", "resolve": "Resolve",
           "all": "All", "connection": "Live", "today": "today"},
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
           "dashboard": "वार रूम डैशबोर्ड", "lines": "लाइनें", "calls_now": "अभी की कॉल", "ringing": "घंटी बज रही",
           "in_ivr": "IVR में", "with_operators": "ऑपरेटर के साथ", "waiting": "प्रतीक्षा में", "longest_wait": "सबसे लंबी",
           "per_minute": "प्रयास / मिनट", "answer_rate": "उत्तर दर", "avg_talk": "औसत बातचीत",
           "abandon_rate": "छोड़ी गई कॉल", "campaigns": "अभियान", "operators": "ऑपरेटर", "charts": "चार्ट",
           "areas": "क्षेत्र", "tickets": "शिकायतें", "reports": "रिपोर्ट", "resume": "फिर शुरू करें",
           "listen": "सुनें", "whisper": "फुसफुसाएँ", "barge": "बातचीत में जुड़ें", "assign": "सौंपें", "resolve": "हल करें",
           "all": "सभी", "connection": "लाइव", "today": "आज"},
}


def texts(language: str | None) -> dict[str, str]:
    return TEXTS.get(language or "en", TEXTS["en"])
