"""The war room's database: engine, models and migrations (SQLite embedded, PostgreSQL in production)."""
