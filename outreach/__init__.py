"""Voter outreach at lakh scale: lists, do-not-call, the law's rules, missed-call numbers."""
