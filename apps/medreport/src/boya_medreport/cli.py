"""``boya medreport ...`` commands."""

import click


@click.group()
def medreport():
    """Radiology dictation to validated HL7 v2 / FHIR reports, archived and delivered over MLLP."""
