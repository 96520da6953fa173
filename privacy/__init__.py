"""Personal data: erasure of a person everywhere, and retention (what is kept how long)."""
