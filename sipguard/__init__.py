"""SIP exposed to a network: addresses that keep failing to authenticate are banned (a PJSIP ACL)."""
