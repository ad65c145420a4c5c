"""Stage 1 of the pipeline: any recording → 16 kHz mono float32 samples, or a clear error.

Every recogniser we use (Whisper, Wav2Vec2 CTC) expects 16 kHz mono. PyAV (FFmpeg's
libraries, shipped in its wheel) decodes everything a user or a browser produces —
WAV, FLAC, MP3, OGG/Vorbis/Opus, WebM/Opus from ``MediaRecorder`` — and its
resampler (libswresample) converts rate and channel layout, so one code path serves
files, raw bytes and in-memory arrays alike.

Bad input raises ``BoyaError`` with a message the user can act on: missing, empty,
corrupt or non-audio files, files without an audio stream, recordings longer than the
limit, sample rates too low for speech, and silence.
"""

import io
import os
from pathlib import Path

import numpy as np
from boya.errors import BoyaError

SAMPLE_RATE = 16_000
MAX_SECONDS = 300.0
MIN_SOURCE_RATE = 8_000
SILENCE_PEAK = 1e-3  # -60 dBFS: quieter than any usable microphone recording


def load_audio(source, *, sample_rate: int | None = None, max_seconds: float = MAX_SECONDS) -> np.ndarray:
    """Decode ``source`` to 16 kHz mono float32 in [-1, 1].

    ``source`` is a path, the bytes of an audio file, a ``(sample_rate, samples)``
    tuple (what ``gr.Audio(type="numpy")`` gives) or a NumPy array with
    ``sample_rate`` passed separately. Arrays may be int16/int32/uint8 PCM or float,
    shaped ``(n,)`` or ``(n, channels)``.
    """
    if isinstance(source, tuple) and len(source) == 2 and np.isscalar(source[0]):
        sample_rate, source = int(source[0]), source[1]
    if isinstance(source, np.ndarray):
        if sample_rate is None:
            raise BoyaError("an audio array needs its sample rate (pass sample_rate=...)")
        samples = _resample(_array_to_mono_float(source), sample_rate, max_seconds, "audio array")
        name = "audio array"
    elif isinstance(source, (bytes, bytearray)):
        if not source:
            raise BoyaError("the audio data is empty (0 bytes)")
        name = "audio data"
        samples = _decode(io.BytesIO(bytes(source)), name, max_seconds)
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = str(path)
        if not path.is_file():
            raise BoyaError(f"audio file not found: {path}")
        if path.stat().st_size == 0:
            raise BoyaError(f"the audio file {path} is empty (0 bytes)")
        samples = _decode(str(path), name, max_seconds)
    else:
        raise BoyaError(
            f"cannot read audio from a {type(source).__name__}; give a file path, bytes or an array"
        )
    _check_content(samples, name)
    return samples


def _decode(file, name: str, max_seconds: float) -> np.ndarray:
    """Decode the first audio stream of a container, resampling while decoding.

    Stops as soon as the decoded length passes ``max_seconds`` so an hour-long upload
    is refused without being held in memory.
    """
    import av

    try:
        container = av.open(file, mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as e:
        raise BoyaError(f"cannot read {name}: not an audio file or corrupt ({_reason(e)})") from None
    with container:
        if not container.streams.audio:
            raise BoyaError(f"{name} has no audio stream")
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or stream.rate
        if rate and rate < MIN_SOURCE_RATE:
            raise BoyaError(_low_rate_message(name, rate))
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks, total = [], 0
        limit = int(max_seconds * SAMPLE_RATE)
        try:
            for frame in container.decode(stream):
                if frame.sample_rate < MIN_SOURCE_RATE:
                    raise BoyaError(_low_rate_message(name, frame.sample_rate))
                for out in resampler.resample(frame):
                    chunk = out.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += chunk.size
                if total > limit:
                    raise BoyaError(_too_long_message(name, max_seconds))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as e:
            raise BoyaError(f"cannot decode {name}: corrupt or truncated audio ({_reason(e)})") from None
    samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if samples.size > limit:
        raise BoyaError(_too_long_message(name, max_seconds))
    return samples.astype(np.float32, copy=False)


def _array_to_mono_float(array: np.ndarray) -> np.ndarray:
    """PCM integers or floats, one or more channels → mono float32 in [-1, 1]."""
    if array.ndim == 2:
        # (n, channels) as soundfile/Gradio give it; a (channels, n) array with few rows is transposed
        array = array.T if array.shape[0] < array.shape[1] and array.shape[0] <= 8 else array
    elif array.ndim != 1:
        raise BoyaError(f"an audio array must be 1-D or (samples, channels), got shape {array.shape}")
    if array.dtype == np.int16:
        array = array.astype(np.float32) / 32768.0
    elif array.dtype == np.int32:
        array = array.astype(np.float32) / 2147483648.0
    elif array.dtype == np.uint8:
        array = (array.astype(np.float32) - 128.0) / 128.0
    elif np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float32)
        if not np.isfinite(array).all():
            raise BoyaError("the audio array contains NaN or infinite samples")
    else:
        raise BoyaError(f"unsupported audio sample type {array.dtype}")
    return array.mean(axis=1) if array.ndim == 2 else array


def _resample(samples: np.ndarray, rate: int, max_seconds: float, name: str) -> np.ndarray:
    import av

    if rate < MIN_SOURCE_RATE:
        raise BoyaError(_low_rate_message(name, rate))
    if samples.size > max_seconds * rate:
        raise BoyaError(_too_long_message(name, max_seconds))
    if rate == SAMPLE_RATE or samples.size == 0:
        return np.ascontiguousarray(samples, dtype=np.float32)
    frame = av.AudioFrame.from_ndarray(
        np.ascontiguousarray(samples[None, :], dtype=np.float32), format="flt", layout="mono"
    )
    frame.sample_rate = rate
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    out = [f.to_ndarray().reshape(-1) for f in [*resampler.resample(frame), *resampler.resample(None)]]
    return np.concatenate(out).astype(np.float32, copy=False)


def _check_content(samples: np.ndarray, name: str) -> None:
    if samples.size == 0:
        raise BoyaError(f"{name} contains no audio samples")
    if samples.size < SAMPLE_RATE // 10:
        raise BoyaError(
            f"{name} is too short ({samples.size / SAMPLE_RATE:.2f} s); record at least 0.1 s of speech"
        )
    if float(np.abs(samples).max()) < SILENCE_PEAK:
        raise BoyaError(f"{name} is silent (peak below -60 dBFS); check the microphone")


def _low_rate_message(name: str, rate: int) -> str:
    return f"{name} is sampled at {rate} Hz, too low for speech recognition (needs at least {MIN_SOURCE_RATE} Hz)"


def _too_long_message(name: str, max_seconds: float) -> str:
    return f"{name} is longer than the {max_seconds:g} s limit; split the dictation into shorter recordings"


def _reason(error: Exception) -> str:
    return getattr(error, "strerror", None) or str(error)


def split_at_pauses(samples: np.ndarray, max_seconds: float) -> list[np.ndarray]:
    """Cut audio longer than ``max_seconds`` into pieces, each cut at the quietest 50 ms
    in the last third of the window, so recognisers with a fixed window (Whisper: 30 s)
    do not lose words at the boundary."""
    window, hop = int(max_seconds * SAMPLE_RATE), SAMPLE_RATE // 20
    pieces, start = [], 0
    while samples.size - start > window:
        search = samples[start + window * 2 // 3 : start + window]
        frames = search[: search.size // hop * hop].reshape(-1, hop)
        cut = start + window * 2 // 3 + int(np.argmin((frames**2).mean(axis=1))) * hop + hop // 2
        pieces.append(samples[start:cut])
        start = cut
    pieces.append(samples[start:])
    return pieces


def write_wav(path, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write mono float samples as 16-bit PCM WAV (for recordings the app or its tests produce)."""
    import wave

    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
    path = Path(path)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
    return path
