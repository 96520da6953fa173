"""Trunks as the war room watches them: registered, reachable, rejected (and why), from Asterisk's events."""
