import numpy as np
import pytest
from boya.errors import BoyaError
from boya_medreport.audio import SAMPLE_RATE, load_audio, split_at_pauses, write_wav


def tone(seconds=1.0, rate=SAMPLE_RATE, freq=440.0, amplitude=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def encode(path, samples, rate, container, codec, layout="stereo"):
    """Write ``samples`` (mono float at ``rate``) with PyAV, as a browser or phone would."""
    import av

    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=48_000 if codec == "libopus" else rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(
            np.stack([samples] * 2 if layout == "stereo" else [samples]), format="fltp", layout=layout
        )
        frame.sample_rate = rate
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name, layout=layout, rate=stream.codec_context.sample_rate
        )
        for chunk in [*resampler.resample(frame), *resampler.resample(None)]:
            out.mux(stream.encode(chunk))
        out.mux(stream.encode(None))
    return path


@pytest.mark.parametrize(
    ("suffix", "container", "codec", "rate"),
    [
        (".flac", "flac", "flac", 44_100),
        (".mp3", "mp3", "libmp3lame", 44_100),
        (".ogg", "ogg", "libopus", 48_000),
        (".webm", "webm", "libopus", 48_000),  # what Chrome's MediaRecorder produces
    ],
)
def test_load_compressed_formats_to_16k_mono(tmp_path, suffix, container, codec, rate):
    path = encode(tmp_path / f"clip{suffix}", tone(2.0, rate), rate, container, codec)
    samples = load_audio(path)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size / SAMPLE_RATE - 2.0) < 0.1  # encoder padding is a few ms
    spectrum = np.abs(np.fft.rfft(samples[SAMPLE_RATE // 2 : SAMPLE_RATE // 2 + SAMPLE_RATE]))
    assert abs(np.argmax(spectrum) - 440) <= 2  # the 440 Hz tone survived decoding and resampling


def test_load_wav_at_odd_rate_path_and_bytes(tmp_path):
    path = write_wav(tmp_path / "odd.wav", tone(1.5, 22_050), 22_050)
    from_path, from_bytes = load_audio(path), load_audio(path.read_bytes())
    assert abs(from_path.size - 1.5 * SAMPLE_RATE) <= 2
    np.testing.assert_allclose(from_path, from_bytes)


def test_load_arrays_like_gradio_gives_them():
    stereo_int16 = (np.stack([tone(1.0, 44_100)] * 2, axis=1) * 32767).astype(np.int16)
    samples = load_audio((44_100, stereo_int16))
    assert abs(samples.size - SAMPLE_RATE) <= 2 and 0.45 < np.abs(samples).max() < 0.55
    assert load_audio(tone(1.0), sample_rate=SAMPLE_RATE).size == SAMPLE_RATE


def put(path, data: bytes):
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.wav", "not found"),
        (lambda d: put(d / "empty.wav", b""), "empty"),
        (
            lambda d: put(d / "notes.wav", b"Findings: no pneumothorax.\n" * 50),
            "not an audio file or corrupt",
        ),
        (lambda d: put(d / "noise.mp3", np.random.default_rng(0).bytes(20_000)), "cannot"),
        (lambda d: write_wav(d / "silent.wav", np.zeros(SAMPLE_RATE, np.float32)), "silent"),
        (lambda d: write_wav(d / "low.wav", tone(1.0, 4_000), 4_000), "4000 Hz"),
        (lambda d: write_wav(d / "long.wav", tone(4.0)), "limit"),
        (lambda d: write_wav(d / "blip.wav", tone(0.02)), "too short"),
        (lambda d: d, "not found"),  # a directory is not a file
    ],
)
def test_bad_audio_files_are_clear_errors(tmp_path, make, message):
    with pytest.raises(BoyaError, match=message):
        load_audio(make(tmp_path), max_seconds=3.0)


def test_truncated_file_is_a_clear_error(tmp_path):
    path = encode(tmp_path / "clip.flac", tone(2.0), SAMPLE_RATE, "flac", "flac", layout="mono")
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes(path.read_bytes()[:60])
    with pytest.raises(BoyaError):
        load_audio(truncated)


def test_bad_arrays_are_clear_errors():
    with pytest.raises(BoyaError, match="sample rate"):
        load_audio(tone())
    with pytest.raises(BoyaError, match="NaN"):
        load_audio(np.full(SAMPLE_RATE, np.nan, np.float32), sample_rate=SAMPLE_RATE)
    with pytest.raises(BoyaError, match="limit"):
        load_audio(tone(4.0), sample_rate=SAMPLE_RATE, max_seconds=3.0)
    with pytest.raises(BoyaError, match="too low"):
        load_audio(tone(1.0, 2_000), sample_rate=2_000)
    with pytest.raises(BoyaError, match="cannot read audio"):
        load_audio(12345)


def test_split_at_pauses_cuts_in_silence():
    speech = np.concatenate([tone(25.0), np.zeros(SAMPLE_RATE // 2, np.float32), tone(20.0)])
    pieces = split_at_pauses(speech, 30.0)
    assert len(pieces) == 2 and sum(p.size for p in pieces) == speech.size
    assert 25.0 <= pieces[0].size / SAMPLE_RATE <= 25.5  # cut inside the half-second pause
    assert split_at_pauses(tone(3.0), 30.0)[0].size == 3 * SAMPLE_RATE
