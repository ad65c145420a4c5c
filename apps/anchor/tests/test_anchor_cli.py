"""The ``boya anchor`` commands, the control-panel handlers, video export and the training recipe."""

import json

import numpy as np
import pytest
from boya.cli import cli
from boya.plugins import call_each
from boya_anchor import server, ui
from boya_anchor.clips import Clip
from click.testing import CliRunner

call_each("register_commands", cli=cli)


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_say_writes_wav_and_prints_rhubarb_json(tmp_path):
    out = tmp_path / "hi.wav"
    result = run("anchor", "say", "Peter bought a maple pie.", "--json", "-o", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert out.read_bytes()[:4] == b"RIFF"
    cues = doc["mouthCues"]
    assert cues[0]["start"] == 0.0 and cues[-1]["end"] == pytest.approx(
        doc["metadata"]["duration"], abs=0.011
    )
    assert all(a["end"] == b["start"] for a, b in zip(cues, cues[1:], strict=False))
    assert {c["value"] for c in cues} <= set("ABCDEFGHX") and "A" in {c["value"] for c in cues}
    assert len(doc["visemes"]["names"]) == 15 and len(doc["visemes"]["weights"][0]) == 15
    tsv = run("anchor", "say", "Hello.", "-o", str(out))
    assert tsv.exit_code == 0 and tsv.output.splitlines()[0] == "0.00\tX"


def test_cli_bad_input_is_one_line_and_exit_2(tmp_path):
    result = run("anchor", "say", "你好", "-o", str(tmp_path / "x.wav"))
    assert result.exit_code == 2 and "unsupported characters" in result.output
    (tmp_path / "empty.wav").write_bytes(b"")
    result = run("anchor", "visemes", str(tmp_path / "empty.wav"))
    assert result.exit_code == 2 and "empty" in result.output
    result = run("anchor", "render", "-o", str(tmp_path / "x.mp4"))
    assert result.exit_code == 2 and "exactly one of --text and --audio" in result.output
    result = run("anchor", "render", "--text", "hi", "--size", "big", "-o", str(tmp_path / "x.mp4"))
    assert result.exit_code == 2 and "--size" in result.output
    result = run("anchor", "train", "--tiny", "--lookahead", "3", "--out", str(tmp_path / "run"))
    assert result.exit_code == 2 and "at most 20 ms" in result.output and not (tmp_path / "run").exists()


def test_avatars_and_voices_are_listed():
    assert "aiko" in run("anchor", "avatars").output
    assert "espeak:en-us" in run("anchor", "voices").output


def test_export_writes_h264_with_audio(tmp_path):
    import av
    from boya_anchor.export import export_video
    from boya_anchor.rig import get_avatar

    rate = 16000
    samples = (0.2 * np.sin(np.arange(rate) * 2 * np.pi * 220 / rate)).astype(np.float32)
    clip = Clip(samples, rate, ["X"] * 20 + ["D"] * 60 + ["A"] * 20, "test")
    stats = export_video(clip, get_avatar("bolt"), tmp_path / "out.mp4", 160, 90, 10)
    assert stats["frames"] == 10
    with av.open(str(tmp_path / "out.mp4")) as container:
        video, audio = container.streams.video[0], container.streams.audio[0]
        assert (video.codec_context.name, video.width, video.height) == ("h264", 160, 90)
        assert audio.codec_context.name == "aac"
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 10
    assert np.abs(frames[5].astype(int) - frames[0].astype(int)).sum() > 0  # the mouth moved


def test_control_panel_handlers_drive_the_stage():
    server._STAGE = None
    try:
        assert ui.expression("happy") == "expression: happy"
        assert "error" in ui.expression("furious")
        assert ui.set_avatar("bolt") == "avatar: bolt" and server.stage().rig["name"] == "bolt"
        assert ui.play_script("你好", "espeak:en-us", 175).startswith("error: unsupported characters")
        assert "playing" in ui.play_script("Hello there.", "espeak:en-us", 175)
        assert ui.play_audio(None).startswith("error")
        assert "start" in ui.mic(True)
    finally:
        server._STAGE = None


def test_control_panel_builds_with_prefixed_api_names():
    blocks = ui.build_ui()
    names = [d.get("api_name") for d in blocks.config["dependencies"] if d.get("api_name")]
    assert names and all(name.startswith("anchor_") for name in names)
    assert "anchor_play_script" in names and "anchor_expression_happy" in names


@pytest.mark.slow
def test_recipe_trains_through_the_runtime_and_fine_tunes(tmp_path):
    from boya.runtime import TrainConfig
    from boya_anchor.train import LOOKAHEAD_FRAMES, make_corpus, save_corpus, train
    from safetensors.torch import load_file

    corpus = tmp_path / "corpus.npz"
    save_corpus(make_corpus(0, copies=1, limit=12, human=False), corpus)
    path = train(TrainConfig(out_dir=str(tmp_path / "run"), max_steps=2, data=str(corpus), progress=False))
    weights = load_file(str(path))
    assert "gru.weight_hh_l0" in weights and weights["mean"].abs().sum() > 0
    card = json.loads(path.with_suffix(".json").read_text())
    assert (
        card["recipe"] == "anchor-visemes"
        and card["seed"] == 0
        and card["parameters"] > 100_000
        and card["init"] is None
    )
    tuned = train(
        TrainConfig(out_dir=str(tmp_path / "tuned"), max_steps=1, lr=1e-4, data=str(corpus), progress=False),
        init=str(path),
    )
    assert json.loads(tuned.with_suffix(".json").read_text())["init"]["max_steps"] == 2
    assert load_file(str(tuned))["mean"].equal(weights["mean"])  # fine-tuning keeps the input normalisation
    # fine-tuning may change the look-ahead; the card records both
    later = train(
        TrainConfig(out_dir=str(tmp_path / "later"), max_steps=1, lr=1e-4, data=str(corpus), progress=False),
        init=str(path),
        lookahead=0,
    )
    later_card = json.loads(later.with_suffix(".json").read_text())
    assert later_card["lookahead_frames"] == 0
    assert later_card["init"]["lookahead_frames"] == card["lookahead_frames"] == LOOKAHEAD_FRAMES


def test_visemes_prints_rhubarb_json_for_any_audio_with_the_shipped_model(tmp_path):
    from boya_anchor.audio import wav_bytes
    from boya_anchor.live import weights_path

    assert weights_path().is_file() and weights_path().with_suffix(".json").is_file()
    card = json.loads(weights_path().with_suffix(".json").read_text())
    assert card["recipe"] == "anchor-visemes" and "seed" in card
    assert 0 <= card["lookahead_frames"] <= 2  # live mode allows at most 20 ms of look-ahead
    rate = 22050  # an odd rate: resampled on the way in
    silent = tmp_path / "silent.wav"
    silent.write_bytes(wav_bytes(np.zeros(rate, np.float32), rate))
    result = run("anchor", "visemes", str(silent), "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["mouthCues"] == [{"start": 0.0, "end": 1.0, "value": "X"}]
    assert doc["metadata"]["duration"] == 1.0
    speech = tmp_path / "speech.wav"
    assert run("anchor", "say", "Open your mouth wide and say aah.", "-o", str(speech)).exit_code == 0
    tsv = run("anchor", "visemes", str(speech)).output.splitlines()
    shapes = {line.split("\t")[1] for line in tsv}
    assert {"X"} < shapes and len(shapes) >= 4  # speech moves the mouth through several shapes
