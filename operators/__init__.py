"""Operators: their softphones (PJSIP endpoints), states, the queue and the console (issue by issue)."""
