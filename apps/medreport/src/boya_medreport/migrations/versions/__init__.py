"""Revision scripts, one per schema change, oldest first (a package so that setuptools ships them in the wheel)."""
