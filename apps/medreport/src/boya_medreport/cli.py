"""``boya medreport ...`` commands. Every command that prints results has ``--json``; bad input raises BoyaError (exit 2)."""

import json
import sys
from pathlib import Path

import click
from boya.db_command import db_group
from boya.errors import BoyaError

DB_OPTION = click.option(
    "--db", "db", default=None, help="Archive database URL (default: $BOYA_DATABASE_URL, else a SQLite file)."
)


def _echo_json(obj) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False))


@click.group()
def medreport():
    """Radiology dictation to validated HL7 v2 / FHIR reports, archived and delivered over MLLP."""


@medreport.command()
@click.argument("audio", type=click.Path(dir_okay=False))
@click.option(
    "--asr", "backend", default="whisper", show_default=True, help="ASR backend (see the asr_backends hook)."
)
@click.option(
    "--model",
    default=None,
    help="A local Whisper/CTC model directory or hub id instead of the embedded default.",
)
@click.option(
    "--beam-size",
    type=click.IntRange(min=1),
    default=None,
    help="Whisper beams where a word is uncertain (default 4); 1 decodes greedily: less accurate.",
)
@click.option("--json", "as_json", is_flag=True)
def transcribe(audio, backend, model, beam_size, as_json):
    """Transcribe one recording: {"text", "backend", "seconds"}."""
    from .pipeline import transcribe as run

    result = run(audio, backend, model, beam_size)
    _echo_json(result) if as_json else click.echo(result["text"])


@medreport.command()
@click.argument("source", default="-", type=click.Path(allow_dash=True, dir_okay=False))
@click.option(
    "--model",
    "model_dir",
    default=None,
    type=click.Path(file_okay=False),
    help="An extraction model directory (default: embedded).",
)
@click.option("--json", "as_json", is_flag=True, help="One report JSON per line (the default output too).")
def extract(source, model_dir, as_json):
    """Extract one report per dictation line of SOURCE (a file, or - for stdin), in order, as JSON lines."""
    from .extract import clean, extract_many
    from .extract.model import Extractor, embedded

    if source == "-":
        text = sys.stdin.read()
    else:
        path = Path(source)
        if not path.is_file():
            raise BoyaError(f"no such file: {source}")
        text = path.read_text(encoding="utf-8", errors="replace")
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise BoyaError("no dictations: give one dictation per line")
    extractor = Extractor(model_dir) if model_dir else embedded()
    for start in range(0, len(lines), 32):
        chunk, problems = lines[start : start + 32], {}
        for i, line in enumerate(chunk):
            try:
                clean(line)
            except BoyaError as error:
                # a bad line gets an error object in its place, the others still come out in order
                problems[i] = {"error": str(error)}
        reports = iter(extract_many([line for i, line in enumerate(chunk) if i not in problems], extractor))
        for i in range(len(chunk)):
            _echo_json(problems[i] if i in problems else next(reports))


@medreport.command()
@click.argument("audio", required=False, type=click.Path(dir_okay=False))
@click.option("--text", "text", default=None, help="Dictation text instead of audio.")
@click.option("--asr", "backend", default="whisper", show_default=True)
@click.option(
    "--beam-size",
    type=click.IntRange(min=1),
    default=None,
    help="Whisper beams where a word is uncertain (default 4); 1 decodes greedily: less accurate.",
)
@click.option("--hl7", "hl7_path", type=click.Path(dir_okay=False), help="Write the ORU^R01 message here.")
@click.option("--fhir", "fhir_path", type=click.Path(dir_okay=False), help="Write the FHIR R5 bundle here.")
@click.option(
    "--html", "html_path", type=click.Path(dir_okay=False), help="Write a readable HTML report here."
)
@click.option(
    "--archive/--no-archive",
    default=True,
    show_default=True,
    help="Store the report (version 1 + audit) in the database.",
)
@DB_OPTION
@click.option("--json", "as_json", is_flag=True)
def report(audio, text, backend, beam_size, hl7_path, fhir_path, html_path, archive, db, as_json):
    """Dictation (AUDIO or --text) -> structured report, validated HL7 ORU^R01 and FHIR bundle."""
    from . import render
    from .archive import Archive, control_id
    from .pipeline import documents, report_from_text
    from .pipeline import transcribe as run_asr

    if (audio is None) == (text is None):
        raise BoyaError("give either an AUDIO file or --text, not both")
    transcript = run_asr(audio, backend, beam_size=beam_size) if audio else None
    dictation = transcript["text"] if transcript else text
    structured = report_from_text(dictation)
    report_id = None
    message_id = "PREVIEW"
    if archive:
        store = Archive(db)
        report_id = store.create(structured, dictation)
        message_id = control_id(report_id, 1)
    docs = documents(structured, message_id)
    for path, content in (
        (hl7_path, docs["hl7"]),
        (fhir_path, docs["fhir"]),
        (html_path, render.render_html(structured)),
    ):
        if path:
            Path(path).write_bytes(content.encode("utf-8"))  # bytes: HL7 segments stay separated by \r
    if as_json:
        _echo_json(
            {
                "report": structured,
                "report_id": report_id,
                "transcript": transcript,
                "hl7_valid": not docs["hl7_problems"],
                "hl7_problems": docs["hl7_problems"],
                "control_id": message_id if archive else None,
            }
        )
    else:
        click.echo(json.dumps(structured, indent=2, ensure_ascii=False))
        click.echo(
            f"HL7: {'valid' if not docs['hl7_problems'] else '; '.join(docs['hl7_problems'])}"
            + (f"; archived as report {report_id}" if report_id else "")
        )


@medreport.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", required=True, type=click.IntRange(1, 65535))
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for the ACK.")
@click.option(
    "--attempts",
    default=3,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Tries before leaving it in the outbox.",
)
@DB_OPTION
@click.option("--json", "as_json", is_flag=True)
def send(file, host, port, timeout, attempts, db, as_json):
    """Archive and send a report (FILE: report JSON, or a report id already archived) over MLLP; waits for the ACK."""
    from .archive import Archive
    from .pipeline import recheck
    from .pipeline import send as run_send

    store = Archive(db)
    if file.isdigit() and not Path(file).exists():
        report_id = int(file)
    else:
        path = Path(file)
        if not path.is_file():
            raise BoyaError(f"no such file: {file}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            raise BoyaError(
                f"{file} is not a report JSON (as printed by `boya medreport report --json`)"
            ) from None
        data = data.get("report", data) if isinstance(data, dict) else data
        if not isinstance(data, dict) or "patient" not in data:
            raise BoyaError(f"{file} is not a structured report (no 'patient')")
        report_id = store.create(recheck(data), None)
    row = run_send(store, report_id, host, port, timeout=timeout, attempts=attempts)
    result = {
        k: row[k]
        for k in ("control_id", "report_id", "status", "attempts", "ack_code", "ack_text", "last_error")
    }
    _echo_json(result) if as_json else click.echo(
        f"{row['control_id']}: {row['status']}"
        + (
            f" (ACK {row['ack_code']} {row['ack_text'] or ''})"
            if row["ack_code"]
            else f" ({row['last_error']})"
        )
    )
    if row["status"] != "acknowledged":
        sys.exit(1)


@medreport.command()
@click.option("--retry", is_flag=True, help="Try to deliver every pending message again.")
@click.option("--all", "show_all", is_flag=True, help="List every message, not only pending ones.")
@DB_OPTION
@click.option("--json", "as_json", is_flag=True)
def outbox(retry, show_all, db, as_json):
    """Messages not yet acknowledged (or all); --retry sends the pending ones again."""
    from .archive import Archive
    from .delivery import flush

    store = Archive(db)
    if retry:
        flush(store)
    rows = [{k: v for k, v in r.items() if k != "er7"} for r in store.outbox(None if show_all else "pending")]
    if as_json:
        _echo_json(rows)
    else:
        for r in rows:
            click.echo(
                f"{r['control_id']} report {r['report_id']} v{r['version']} -> {r['host']}:{r['port']} {r['status']} attempts={r['attempts']} {r['last_error'] or r['ack_text'] or ''}"
            )


@medreport.command()
@click.option("--limit", default=20, show_default=True)
@DB_OPTION
@click.option("--json", "as_json", is_flag=True)
def history(limit, db, as_json):
    """Archived reports, newest first."""
    from .archive import Archive

    rows = Archive(db).history(limit)
    if as_json:
        _echo_json(rows)
    else:
        for r in rows:
            click.echo(
                f"{r['id']:>5} {r['created']} {r['status']:<12} v{r['version']} {r['patient'] or '?'} ({r['mrn'] or '?'}) {r['exam'] or ''}{' CRITICAL' if r['critical'] else ''}"
            )


def _open_archive(db_url):
    from .archive import Archive

    return Archive(db_url).revision


medreport.add_command(db_group("medreport", "archive", "boya_medreport.archive", _open_archive))


@medreport.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=2575, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--dir",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Where accepted messages are written.",
)
def listen(host, port, out_dir):
    """Run an MLLP receiver: validates each ORU^R01, stores it once per control id, answers AA/AE/AR."""
    import asyncio

    from .mllp import Receiver

    receiver = Receiver(out_dir, host, port)

    async def run():
        await receiver.start()
        click.echo(f"listening on {host}:{receiver.port}, writing to {out_dir}", err=True)
        async with receiver.server:
            await receiver.server.serve_forever()

    try:
        asyncio.run(run())
    except KeyboardInterrupt:
        pass


@medreport.command(name="eval")
@click.argument("data", type=click.Path(dir_okay=False))
@click.option("--model", "model_dir", default=None, type=click.Path(file_okay=False))
@click.option(
    "--predictions",
    type=click.Path(dir_okay=False),
    help="Also write the predicted reports (JSON lines) here.",
)
@click.option(
    "--backstop/--no-backstop",
    default=True,
    show_default=True,
    help="Add the lexicon backstop's findings (off: the model alone).",
)
@click.option("--json", "as_json", is_flag=True)
def evaluate(data, model_dir, predictions, backstop, as_json):
    """Score extraction on DATA.jsonl: micro-F1 + findings-F1 (gold reports) or present-finding F1 ("present" lists)."""
    from .eval import evaluate as run
    from .eval import load
    from .extract import extract_many
    from .extract.model import Extractor, embedded

    extractor = Extractor(model_dir) if model_dir else embedded()
    result, preds = run(load(data), lambda texts: extract_many(texts, extractor, backstop))
    if predictions:
        Path(predictions).write_text("".join(json.dumps(p) + "\n" for p in preds))
    if as_json:
        _echo_json(result)
    elif "micro_f1" in result:
        click.echo(
            f"micro-F1 {result['micro_f1']:.3f} (P {result['precision']:.3f} R {result['recall']:.3f}), findings-F1 {result['findings_f1']:.3f} over {result['reports']} dictations"
        )
        click.echo("fields: " + ", ".join(f"{k} {v:.2f}" for k, v in result["field_accuracy"].items()))
    else:
        click.echo(
            f"present-findings F1 {result['present_f1']:.3f} (P {result['precision']:.3f} R {result['recall']:.3f}) over {result['reports']} reports; no false finding on {result['clean_normals']:.2f} of normal ones"
        )


@medreport.command()
@click.option("--split", type=click.Choice(["train", "heldout"]), default="heldout", show_default=True)
@click.option("-n", "count", default=200, show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option(
    "--spoken/--written",
    default=None,
    help="Force spoken dictation style (commands, spoken numbers) or written.",
)
def generate(split, count, seed, spoken):
    """Print generated dictations with gold reports (JSON lines, the eval format)."""
    import random

    from .dictations import dictation

    rng = random.Random(seed)
    for i in range(count):
        row = dictation(rng, split, spoken=spoken)
        _echo_json({"id": f"gen-{split}-{seed}-{i:04d}", **row})


@medreport.command()
@click.option("--out", "out_dir", default="runs/medreport-extract", show_default=True)
@click.option("--max-steps", default=None, type=int)
@click.option("--seed", default=0, show_default=True)
@click.option(
    "--install", is_flag=True, help="Copy the trained model into the package as the embedded default."
)
def train(out_dir, max_steps, seed, install):
    """Train the extraction model (the medreport-extract recipe, same as `boya train medreport-extract`)."""
    import shutil

    from boya.runtime import TrainConfig

    from .extract import recipe
    from .extract.model import WEIGHTS_DIR

    options = {**recipe.DEFAULTS, **({"max_steps": max_steps} if max_steps else {})}
    path = recipe.train(TrainConfig(out_dir=out_dir, seed=seed, **options))
    if install:
        WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
        for name in ("model.safetensors", "config.json", "tokenizer.json", "recipe.json"):
            shutil.copy2(path / name, WEIGHTS_DIR / name)
        path = WEIGHTS_DIR
    click.echo(str(path))


@medreport.command()
@click.option(
    "--dictations",
    "n",
    default=20,
    show_default=True,
    help="Dictations to time (text path) and to speak for the audio path.",
)
@click.option(
    "--audio/--no-audio",
    default=True,
    show_default=True,
    help="Also time audio -> HL7 and WER (needs the ASR stage).",
)
@click.option(
    "--asr",
    "backend",
    default="whisper",
    show_default=True,
    help="ASR backend (see the asr_backends hook); the Whisper options below apply to whisper only.",
)
@click.option(
    "--asr-adapter/--no-asr-adapter",
    "adapter",
    default=True,
    show_default=True,
    help="Whisper with the shipped dictation adapter, or the base model.",
)
@click.option(
    "--threads",
    default=1,
    show_default=True,
    help="torch intra-op threads (the bar is on 2 cores; 1 is faster when other jobs share them).",
)
@click.option(
    "--beam-size",
    type=click.IntRange(min=1),
    default=None,
    help="Whisper beams where a word is uncertain (default: the app's, 4); 1 decodes greedily.",
)
@click.option(
    "--speculative/--no-speculative",
    default=True,
    show_default=True,
    help="Speculative decoding (same text), or one greedy token per decoder pass.",
)
@click.option(
    "--encoder-precision",
    type=click.Choice(["auto", "bf16", "fp32"]),
    default="auto",
    show_default=True,
    help="Whisper's encoder products in bf16 or fp32; auto: bf16 where the CPU has bf16 instructions.",
)
@click.option(
    "--unseen-names",
    is_flag=True,
    help="Give the dictations patient names from no generator list (the ASR adapter never heard them).",
)
@click.option("--json", "as_json", is_flag=True)
def bench(
    n, backend, audio, adapter, threads, beam_size, speculative, encoder_precision, unseen_names, as_json
):
    """Time the pipeline (model load, warm seconds per 30 s dictation) and ASR WER by held-out voice."""
    from .asr import backends
    from .bench import run

    if backend not in backends():
        raise click.BadParameter(
            f"unknown ASR backend {backend!r}; available: {', '.join(sorted(backends()))}", param_hint="--asr"
        )
    result = run(n, audio, adapter=adapter, threads=threads, beam_size=beam_size, speculative=speculative,
                 unseen_names=unseen_names, asr=backend, encoder_precision=encoder_precision)  # fmt: skip
    if as_json:
        _echo_json(result)
    else:
        for k, v in result.items():
            click.echo(f"{k}: {v}")
