"""Storage: sqlmodel tables, the database handle, queries and alembic migrations."""
