"""``boya anchor ...`` commands."""

import click


@click.group()
def anchor():
    """A real-time virtual anchor: speech to mouth shapes and motion, rendered in the browser and OBS."""
