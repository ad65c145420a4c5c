"""Alembic environment: the store's models are the target; the connection comes from boya.storage.upgrade."""

from boya.storage import run_migrations

from boya_exercises.store import Base

run_migrations(Base.metadata)
