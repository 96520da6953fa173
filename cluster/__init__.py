"""Several nodes on one PostgreSQL: the nodes' registry and heartbeats, and the events relayed between
their processes (LISTEN/NOTIFY). The single-box default (SQLite, one node) uses the registry only."""
