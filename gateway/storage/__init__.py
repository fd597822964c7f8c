"""Durable storage: SQLAlchemy models, the engine, Alembic migrations and repositories."""
