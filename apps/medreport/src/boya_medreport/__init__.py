"""Radiology dictation to validated HL7 v2 / FHIR reports, archived and delivered over MLLP."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("boya-medreport")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0"
