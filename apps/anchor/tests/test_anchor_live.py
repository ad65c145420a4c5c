"""Live mode and audio input: streaming equals offline, silence stays closed, the mouth opens with the first
voiced chunk, bad audio is refused clearly."""

import json
import wave

import numpy as np
import pytest
import torch
from boya.errors import BoyaError
from boya_anchor.animate import Animator, MouthSpring
from boya_anchor.audio import load_audio, wav_bytes
from boya_anchor.features import StreamingLogMel, log_mel
from boya_anchor.live import HOLD_FRAMES, LiveEngine, load_model, shapes_for_audio
from boya_anchor.model import CausalVisemeNet, FrameStepper
from boya_anchor.rig import get_avatar
from boya_anchor.tts import synthesize
from safetensors.torch import save_model


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """An untrained model with a voiced bias: enough to test the plumbing, not the accuracy (that is `boya anchor eval`)."""
    torch.manual_seed(0)
    model = CausalVisemeNet(cmn_prior=100)
    with torch.no_grad():
        model.vad_head.bias.fill_(5.0)
    path = tmp_path_factory.mktemp("model") / "visemes.safetensors"
    save_model(model, str(path))
    path.with_suffix(".json").write_text(json.dumps({"lookahead_frames": 2, "cmn_prior_frames": 100}))
    return str(path)


@pytest.fixture(scope="module")
def deaf_model_path(tmp_path_factory):
    """A model whose VAD never hears speech, with a 10 ms look-ahead on its card."""
    torch.manual_seed(0)
    model = CausalVisemeNet(cmn_prior=100)
    with torch.no_grad():
        model.vad_head.bias.fill_(-5.0)
    path = tmp_path_factory.mktemp("deaf") / "visemes.safetensors"
    save_model(model, str(path))
    path.with_suffix(".json").write_text(json.dumps({"lookahead_frames": 1, "cmn_prior_frames": 100}))
    return str(path)


@pytest.fixture(scope="module")
def speech():
    s = synthesize("Maybe we could meet by the old mill on Monday.", "espeak:en-us")
    from boya_anchor.audio import resample

    return resample(s.samples, s.rate, 16000)


def test_streaming_features_equal_offline(speech):
    stream = StreamingLogMel()
    pieces = [stream.push(speech[i : i + 333]) for i in range(0, len(speech), 333)]
    assert np.allclose(np.concatenate(pieces), log_mel(speech), atol=1e-4)


def test_streaming_model_equals_one_pass(model_path, speech):
    model = load_model(model_path)
    mel = torch.from_numpy(log_mel(speech))[None]
    with torch.no_grad():
        whole = model(mel)[0]
        state, parts = None, []
        for i in range(0, mel.shape[1], 2):
            out = model(mel[:, i : i + 2], state)
            state = out[3]
            parts.append(out[0])
    assert torch.allclose(whole, torch.cat(parts, 1), atol=1e-5)


def test_numpy_frame_stepper_equals_the_torch_model(model_path, speech):
    model = load_model(model_path)
    mel = log_mel(speech)
    with torch.no_grad():
        shapes, _, vad, _ = model(torch.from_numpy(mel)[None])
    stepper = FrameStepper(model)
    steps = [stepper.step(row) for row in mel]
    assert np.allclose(np.stack([s for s, _ in steps]), shapes[0].numpy(), atol=1e-4)
    assert np.allclose([v for _, v in steps], vad[0].numpy(), atol=1e-4)


def test_engine_emits_one_shape_per_10ms_and_file_mode_matches(model_path, speech):
    engine = LiveEngine(16000, model_path)
    shapes = []
    for i in range(0, len(speech), 320):
        chunk = (speech[i : i + 320] * 32767).astype("<i2").tobytes()
        shapes += [frame.shape for frame in engine.push_pcm16(chunk)]
    assert len(shapes) == len(speech) // 160
    offline = shapes_for_audio(speech, model_path)
    assert offline[: len(shapes) - 2] == shapes[2:]  # the file result undoes the 20 ms look-ahead


def test_silence_keeps_the_mouth_closed(model_path):
    assert set(shapes_for_audio(np.zeros(16000, np.float32), model_path)) == {"X"}
    noise_floor = np.random.default_rng(0).normal(0, 1e-4, 16000).astype(np.float32)
    assert set(shapes_for_audio(noise_floor, model_path)) == {"X"}


def test_minimum_hold_prevents_flicker(model_path, speech):
    shapes = shapes_for_audio(speech, model_path)
    runs, i = [], 0
    while i < len(shapes):
        j = i
        while j < len(shapes) and shapes[j] == shapes[i]:
            j += 1
        runs.append(j - i)
        i = j
    assert min(runs[1:-1] or [2]) >= 2


def test_odd_sample_rates_are_resampled(model_path, speech, tmp_path):
    from boya_anchor.audio import resample

    odd = resample(speech, 16000, 11025)
    path = tmp_path / "odd.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(11025)
        pcm = (odd * 32767).astype("<i2")
        w.writeframes(np.stack([pcm, pcm], 1).tobytes())
    loaded = load_audio(path, 16000)
    assert abs(len(loaded) - len(speech)) < 200
    engine = LiveEngine(44100, model_path)
    out = engine.push(np.zeros(4410, np.float32))
    assert len(out) == 10


def test_bad_audio_files_are_clear_errors(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 10)
    (tmp_path / "text.mp3").write_text("this is not audio at all " * 20)
    with pytest.raises(BoyaError, match="empty"):
        load_audio(tmp_path / "empty.wav")
    for name in ("corrupt.wav", "text.mp3"):
        with pytest.raises(BoyaError, match="cannot decode|no audio"):
            load_audio(tmp_path / name)
    with pytest.raises(BoyaError, match="not found"):
        load_audio(tmp_path / "missing.wav")
    (tmp_path / "zero.wav").write_bytes(wav_bytes(np.zeros(0, np.float32), 16000))
    with pytest.raises(BoyaError, match="no audio samples"):
        load_audio(tmp_path / "zero.wav")


def test_bad_live_input_is_refused(model_path):
    with pytest.raises(BoyaError, match="sample rate"):
        LiveEngine(100, model_path)
    with pytest.raises(BoyaError, match="even number"):
        LiveEngine(16000, model_path).push_pcm16(b"\x00\x01\x02")
    with pytest.raises(BoyaError, match="no trained viseme model"):
        load_model("/nonexistent/model.safetensors")


def test_the_mouth_opens_with_the_first_voiced_chunk_before_the_model_names_its_shape(model_path):
    engine = LiveEngine(16000, model_path)
    engine.push(np.zeros(1600, np.float32))
    animator = Animator(get_avatar("aiko"))
    assert engine.opening == 0.0
    assert animator.frame(0.0, engine.last.shape, opening=engine.opening)["MouthOpenY"] < 0.05
    tone = (0.3 * np.sin(2 * np.pi * 220 * np.arange(128) / 16000)).astype(np.float32)
    assert engine.push(tone) == []  # one 128-sample render quantum: no whole hop for the model yet
    assert engine.last.shape == "X" and engine.opening > 0.9
    assert animator.frame(0.01, engine.last.shape, opening=engine.opening)["MouthOpenY"] > 0.8


def test_a_noise_the_model_calls_silence_closes_the_mouth_after_its_look_ahead(deaf_model_path):
    engine = LiveEngine(16000, deaf_model_path)
    assert engine.lookahead == 1  # from the model card, not assumed
    noise = np.random.default_rng(0).normal(0, 0.1, 160 * 20).astype(np.float32)
    openings = []
    for start in range(0, len(noise), 160):
        assert [frame.shape for frame in engine.push(noise[start : start + 160])] == ["X"]
        openings.append(engine.opening)
    unjudged = engine.lookahead + HOLD_FRAMES
    assert min(openings[:unjudged]) > 0.5 and max(openings[unjudged:]) == 0.0


def test_the_opening_lifts_the_mouth_at_once_up_to_what_the_shape_allows():
    rig = get_avatar("aiko")
    widest = max(values["MouthOpenY"] for values in rig["mouth"].values())
    assert MouthSpring(rig).step("X", 0.01, opening=0.5)["MouthOpenY"] == pytest.approx(0.5 * widest)
    assert MouthSpring(rig).step("C", 0.01, opening=1.0)["MouthOpenY"] == pytest.approx(
        rig["mouth"]["C"]["MouthOpenY"]
    )
    # lips shut
    assert MouthSpring(rig).step("A", 0.01, opening=1.0)["MouthOpenY"] == pytest.approx(0.0, abs=1e-6)
    # Without an opening (script playback, export) the spring still rises over several steps.
    assert MouthSpring(rig).step("D", 0.01)["MouthOpenY"] < 0.5 * rig["mouth"]["D"]["MouthOpenY"]
