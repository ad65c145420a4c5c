"""``boya train RECIPE``: run a registered training recipe with the core runtime."""

import json
import os
import warnings
from pathlib import Path

import click

from ..hookspecs import hookimpl


def _profile_schedule(value: str | None):
    if value is None:
        return None
    from ..errors import BoyaError

    try:
        wait, warmup, active = (int(part) for part in value.split(","))
    except ValueError:
        raise BoyaError(
            f"--profile takes WAIT,WARMUP,ACTIVE step counts (e.g. 1,1,3), got {value!r}"
        ) from None
    return (wait, warmup, active)


@click.command()
@click.argument("recipe", required=False)
@click.option("--list", "list_recipes", is_flag=True, help="List the installed recipes and exit.")
@click.option("--max-steps", type=int, help="Optimizer steps to run.")
@click.option("--precision", help="32, bf16-mixed, 16-mixed, bf16-true or auto.")
@click.option("--compile", "compile_mode", help="off, model or regions (torch.compile with inductor).")
@click.option(
    "--out", "out_dir", type=click.Path(file_okay=False), help="Output directory [default: runs/RECIPE]."
)
@click.option("--resume", is_flag=True, help="Continue bit-identically from the newest checkpoint in --out.")
@click.option("--threads", type=int, help="Intra-op CPU threads [default: 1].")
@click.option("--data", type=click.Path(), help="Recipe input (e.g. the text file for text-lm).")
@click.option("--seed", type=int)
@click.option("--lr", type=float)
@click.option("--batch-size", type=int)
@click.option("--grad-accum", type=int, help="Micro-batches per optimizer step (token-exact).")
@click.option("--device", help="auto, cpu or cuda.")
@click.option(
    "--strategy", help="single, or under torchrun: ddp, fsdp, tp, pp, fsdp+tp (batch size is global)."
)
@click.option("--tp-size", type=int, help="Tensor-parallel degree for tp/fsdp+tp.")
@click.option("--pp-schedule", help="Pipeline schedule for pp: gpipe or 1f1b.")
@click.option("--pp-microbatches", type=int, help="Micro-batches per pipeline step [default: 2 x stages].")
@click.option("--pp-split", help="Block indices where pipeline stages 2..n start, e.g. 3 or 2,4.")
@click.option("--save-every", type=int, help="Checkpoint every N steps.")
@click.option("--eval-every", type=int, help="Evaluate every N steps.")
@click.option("--log-every", type=int, help="Write a metrics row every N steps.")
@click.option(
    "--logger",
    "loggers",
    multiple=True,
    help="Metric logger, repeatable: jsonl, csv, tensorboard (pip install tensorboard) [default: jsonl].",
)
@click.option(
    "--profile", help="Profile WAIT,WARMUP,ACTIVE steps: Chrome trace + top-ops table in OUT/profile."
)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
def train(recipe, list_recipes, out_dir, profile, no_progress, as_json, **options):
    """Train RECIPE (see --list) with the Boya runtime; checkpoints, metrics and weights go to --out."""
    from ..errors import BoyaError
    from ..recipes import all_recipes, get_recipe

    if list_recipes:
        for name, (plugin_name, found) in sorted(all_recipes().items()):
            click.echo(f"{name}  {found.description}  [{plugin_name}]")
        return
    if recipe is None:
        raise BoyaError("name a recipe to train (boya train --list shows them)")
    found = get_recipe(recipe)
    from ..runtime.config import TrainConfig

    renamed = {"compile_mode": "compile"}
    overrides = {
        renamed.get(key, key): value for key, value in options.items() if value not in (None, False, ())
    }
    overrides["out_dir"] = out_dir or f"runs/{recipe}"
    overrides["profile"] = _profile_schedule(profile)
    if "pp_split" in overrides:
        try:
            overrides["pp_split"] = tuple(int(part) for part in overrides["pp_split"].split(","))
        except ValueError:
            raise BoyaError(
                f"--pp-split takes block indices like 2,4, got {overrides['pp_split']!r}"
            ) from None
    if no_progress:
        overrides["progress"] = False
    config = TrainConfig(**{**found.defaults, **overrides})
    with warnings.catch_warnings():
        warnings.showwarning = lambda message, *args, **kwargs: click.echo(f"warning: {message}", err=True)
        path = found.train(config)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun the result is printed once, by rank 0
        return
    table = Path(config.out_dir) / "profile" / "top_ops.txt"
    if config.profile and table.exists() and not as_json:
        click.echo(table.read_text())
    if as_json:
        click.echo(json.dumps({"recipe": recipe, "path": str(path), "out_dir": config.out_dir}))
    else:
        click.echo(f"saved {path}")


@hookimpl
def register_commands(cli):
    cli.add_command(train)
