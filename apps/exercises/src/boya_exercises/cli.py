"""``boya exercises ...`` commands."""

import json

import click
from boya.db_command import db_group

from .kinds import TYPES

_DB = click.option(
    "--db",
    "db_url",
    default=None,
    help="SQLAlchemy database URL (default: BOYA_DATABASE_URL, else the app's SQLite file).",
)


@click.group()
def exercises():
    """Personalised maths practice: a knowledge graph, verified generated exercises, adaptive difficulty."""


@exercises.command()
@click.option("--json", "as_json", is_flag=True, help="Print the whole graph as JSON.")
def kg(as_json):
    """The knowledge graph (CCSSM standards and prerequisites); servable standards are marked."""
    from .graph import kg_json, servable_graph

    graph = kg_json()
    if as_json:
        click.echo(json.dumps(graph, ensure_ascii=False))
        return
    servable = [node for node in graph["nodes"] if node["servable"]]
    click.echo(
        f"{len(graph['nodes'])} standards, {len(graph['edges'])} prerequisite edges; "
        f"{len(servable)} servable ({servable_graph().number_of_edges()} links between them):"
    )
    for node in servable:
        click.echo(f"  {node['id']:<14} grade {node['level']}  {node['title']} / {node['title_zh']}")


@exercises.command(name="generate")
@click.option("--kp", required=True, help="Knowledge point code, e.g. 6.EE.A.3.")
@click.option("--type", "exercise_type", type=click.Choice(TYPES), default="short_answer", show_default=True)
@click.option("--difficulty", type=click.IntRange(1, 5), default=3, show_default=True)
@click.option("-n", "count", type=click.IntRange(1, 10000), default=1, show_default=True)
@click.option("--seed", type=int, default=None, help="Seed for reproducible exercises.")
@click.option(
    "--wording",
    type=click.Choice(["none", "template", "model"]),
    default="none",
    show_default=True,
    help="Reword as word problems where the KP allows: template frames or the GPT-2 wording model.",
)
@click.option("--json", "as_json", is_flag=True, help="One exercise.schema.json object per line.")
def generate_command(kp, exercise_type, difficulty, count, seed, wording, as_json):
    """Generate verified exercises for one knowledge point."""
    from .exercise import generate
    from .stem_writers import stem_writer

    writer = stem_writer(wording)
    for i in range(count):
        exercise = generate(
            kp, exercise_type, difficulty, None if seed is None else seed + i, stem_writer=writer
        )
        if as_json:
            click.echo(json.dumps(exercise, ensure_ascii=False))
        else:
            click.echo(f"[{exercise['id']}] {exercise['stem']}")
            for letter, option in zip("ABCD", exercise["options"] or [], strict=False):
                click.echo(f"   {letter}) {option}")
            click.echo(f"   answer: {exercise['answer']}  —  {exercise['solution']}")


@exercises.command()
@_DB
@click.option(
    "--wording", type=click.Choice(["none", "template", "model"]), default="none", show_default=True
)
def tutor(db_url, wording):
    """Run the JSON-lines tutor protocol on stdin/stdout (see tutor-protocol.md)."""
    from .engine import Engine
    from .stem_writers import stem_writer
    from .store import Store
    from .tutor import serve

    serve(Engine(Store(db_url), stem_writer=stem_writer(wording)))


@exercises.command()
@click.option("--kp", required=True, help="Knowledge point code.")
@click.option("-n", "count", type=click.IntRange(1, 200), default=10, show_default=True)
@click.option(
    "-o", "out", required=True, type=click.Path(dir_okay=False), help="FILE.md, FILE.pdf, or FILE for both."
)
@click.option(
    "--difficulty", type=click.IntRange(1, 5), default=None, help="Fixed level (default: rising 1 → 5)."
)
@click.option("--seed", type=int, default=0, show_default=True)
def worksheet(kp, count, out, difficulty, seed):
    """Write a printable worksheet with an answer key (Markdown and/or PDF)."""
    from .worksheet import write

    for path in write(kp, count, out, difficulty, seed):
        click.echo(str(path))


@exercises.command()
@click.option(
    "--policy",
    "policies",
    multiple=True,
    type=click.Choice(["engine", "random", "staircase", "maxinfo", "all"]),
    default=("all",),
    show_default=True,
    help="Repeat to compare several; 'all' runs the four and checks the bars.",
)
@click.option("--students", type=click.IntRange(1, 100000), default=300, show_default=True)
@click.option("--items", type=click.IntRange(1, 1000), default=30, show_default=True)
@click.option("--learning", type=click.Choice(["zpd", "info"]), default="zpd", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--via-tutor",
    is_flag=True,
    help="Drive `boya exercises tutor` over its protocol as an outside program (engine, random, staircase).",
)
@click.option("--json", "as_json", is_flag=True)
def simulate(policies, students, items, learning, seed, via_tutor, as_json):
    """Simulate a class of learning, quitting IRT students under difficulty policies (same draws for each)."""
    from .simulate import POLICIES, compare

    chosen = POLICIES if "all" in policies else tuple(dict.fromkeys(policies))
    if via_tutor:
        chosen = tuple(name for name in chosen if name != "maxinfo") if "all" in policies else chosen
    report = compare(chosen, students, items, seed, learning, via_tutor=via_tutor)
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"{students} students x {items} items, learning={learning}, seed={seed}")
    click.echo(f"{'policy':<10} {'in band':>8} {'success':>8} {'complete':>9} {'gain':>7} {'ms/dec':>7}")
    for name, row in report["policies"].items():
        click.echo(
            f"{name:<10} {row['band_share']:>8.3f} {row['success']:>8.3f} {row['completion']:>9.3f} {row['gain']:>7.3f} {row['ms_per_decision']:>7.2f}"
        )
    for name, value in report.get("bars", {}).items():
        click.echo(f"  {name}: {value}")


@exercises.command(name="kt-eval")
@click.option(
    "--train",
    "train_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Training logs (ASSISTments format).",
)
@click.option(
    "--test",
    "test_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Test logs, used once for the AUC.",
)
@click.option(
    "--out",
    default=None,
    type=click.Path(file_okay=False),
    help="Run folder (default: a fresh temporary one).",
)
@click.option(
    "--max-steps", type=click.IntRange(1), default=None, help="Optimizer steps (recipe default 1200)."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--model",
    "model_name",
    type=click.Choice(["gru", "elo"]),
    default="gru",
    show_default=True,
    help="gru: the DKT-style network; elo: the engine's own online student model, for comparison.",
)
@click.option("--json", "as_json", is_flag=True)
def kt_eval(train_file, test_file, out, max_steps, seed, model_name, as_json):
    """Train the knowledge-tracing model (boya.runtime) on --train only; print the AUC of next-answer prediction on --test."""
    import tempfile
    import time

    from boya.runtime import TrainConfig

    from . import kt
    from .recipes import KT_DEFAULTS, train_kt

    test_students = kt.read_logs(test_file)
    if model_name == "elo":
        probabilities, labels = kt.elo_predictions(kt.read_logs(train_file), test_students)
        report = {
            "model": "elo",
            "auc": round(kt.auc(probabilities, labels), 4),
            "test_predictions": int(len(labels)),
        }
        click.echo(json.dumps(report) if as_json else "\n".join(f"{k}: {v}" for k, v in report.items()))
        return
    settings = dict(
        KT_DEFAULTS,
        out_dir=out or tempfile.mkdtemp(prefix="boya-kt-"),
        data=train_file,
        seed=seed,
        progress=not as_json,
    )
    if max_steps:
        settings["max_steps"] = max_steps
    started = time.perf_counter()
    weights = train_kt(TrainConfig(**settings))
    model, config = kt.load(weights.parent)
    probabilities, labels = kt.predict(model, test_students, config.n_skills)
    meta = json.loads((weights.parent / "kt.json").read_text())
    report = {
        "auc": round(kt.auc(probabilities, labels), 4),
        "validation_auc": meta["validation_auc"],
        "test_predictions": int(len(labels)),
        "max_steps": settings["max_steps"],
        "train_seconds": round(time.perf_counter() - started, 1),
        "model": str(weights),
    }
    click.echo(json.dumps(report) if as_json else "\n".join(f"{k}: {v}" for k, v in report.items()))


@exercises.command()
@click.option(
    "--per-cell",
    type=click.IntRange(1, 100),
    default=2,
    show_default=True,
    help="Exercises per KP × type × difficulty.",
)
@click.option(
    "--wording-samples",
    type=click.IntRange(0, 2000),
    default=120,
    show_default=True,
    help="Stories for the wording-model comparison (0 skips it).",
)
@click.option("--json", "as_json", is_flag=True)
def bench(per_cell, wording_samples, as_json):
    """Generation latency and verified rate; the GPT-2 wording model against the template frames."""
    from boya.errors import BoyaError

    from . import bench as measure
    from .wording_gpt2 import ModelWriter

    report = measure.generation(per_cell)
    if wording_samples:
        try:
            report["wording_model"] = measure.wording(ModelWriter.load(), wording_samples)
        except BoyaError as error:
            report["wording_model"] = {"error": str(error)}
    if as_json:
        click.echo(json.dumps(report))
        return
    for key, value in report.items():
        click.echo(f"{key}: {value}")


@exercises.command()
@click.argument("model", type=click.Choice(["gpt2", "kt", "gnn"]))
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False),
    help="Run folder (checkpoints, metrics, weights).",
)
@click.option(
    "--max-steps", type=click.IntRange(1), default=None, help="Optimizer steps (default: the recipe's)."
)
@click.option(
    "--data", default=None, type=click.Path(exists=True, dir_okay=False), help="kt: the training logs."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--install",
    is_flag=True,
    help="gpt2: copy the trained model into the package as the shipped wording model.",
)
def train(model, out, max_steps, data, seed, install):
    """Train the app's models with boya.runtime (same as `boya train exercises-gpt2|exercises-kt`)."""
    import shutil
    from importlib import resources
    from pathlib import Path

    from boya.runtime import TrainConfig

    from . import recipes

    defaults, run = {
        "gpt2": (recipes.GPT2_DEFAULTS, recipes.train_wording_gpt2),
        "kt": (recipes.KT_DEFAULTS, recipes.train_kt),
        "gnn": (recipes.GNN_DEFAULTS, recipes.train_gnn),
    }[model]
    settings = dict(defaults, out_dir=out, seed=seed, data=data)
    if max_steps:
        settings["max_steps"] = max_steps
    weights = run(TrainConfig(**settings))
    click.echo(str(weights))
    if model == "gnn":
        click.echo((weights.parent / "gnn.json").read_text())
    if install and model == "gpt2":
        target = Path(str(resources.files("boya_exercises").joinpath("models", "wording-gpt2")))
        target.mkdir(parents=True, exist_ok=True)
        for name in ("model.safetensors", "wording.json"):
            shutil.copy2(weights.parent / name, target / name)
        click.echo(f"installed in {target}")


def _open_store(db_url):
    from .store import Store

    return Store(db_url).revision


exercises.add_command(db_group("exercises", "store", "boya_exercises.store", _open_store))
