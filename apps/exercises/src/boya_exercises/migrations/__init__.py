"""Alembic migrations of the exercises store, applied by :func:`boya.storage.upgrade` when the store opens.

A schema change in store.py needs a new file in versions/ (the test comparing
migrations with the models fails until it exists).
"""
