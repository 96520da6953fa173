"""Running the war room on a real server: checks (``warroom doctor``), backups, the existing Asterisk's
configuration check, systemd units."""
