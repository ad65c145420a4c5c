"""Alembic environment: the archive's models are the target; the connection comes from boya.storage.upgrade."""

from boya.storage import run_migrations

from boya_medreport.archive import Base

run_migrations(Base.metadata)
