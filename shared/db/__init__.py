"""PostgreSQL: connection pool, shared tables and migrations."""
