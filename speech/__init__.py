"""Speech for the IVR: rendered text synthesised to 8 kHz audio files Asterisk can play, cached."""
