"""``boya exercises ...`` commands."""

import click


@click.group()
def exercises():
    """Personalised maths practice: a knowledge graph, verified generated exercises, adaptive difficulty."""
