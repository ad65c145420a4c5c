"""Alembic migrations of the medreport archive, applied by :func:`boya.storage.upgrade` when the archive opens.

A schema change in archive.py needs a new file in versions/ (the test comparing
migrations with the models fails until it exists).
"""
