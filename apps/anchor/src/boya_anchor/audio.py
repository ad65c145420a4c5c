"""Reading and writing audio: any format FFmpeg decodes, resampled to the rate the caller needs.

Corrupt, empty or unreadable files raise a BoyaError; odd sample rates and
stereo are converted (PyAV's resampler), so the rest of the app sees mono float32.
"""

import io
import wave
from pathlib import Path

import numpy as np
from boya.errors import BoyaError

RATE = 16_000
MAX_SECONDS = 3 * 3600


def load_audio(path: str | Path, rate: int = RATE) -> np.ndarray:
    """Mono float32 samples of ``path`` at ``rate`` Hz."""
    import av

    path = Path(path)
    if not path.is_file():
        raise BoyaError(f"audio file not found: {path}")
    if path.stat().st_size == 0:
        raise BoyaError(f"audio file {path} is empty")
    chunks = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise BoyaError(f"{path} has no audio stream")
            resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
                if sum(len(c) for c in chunks) > MAX_SECONDS * rate:
                    raise BoyaError(f"{path} is longer than {MAX_SECONDS // 3600} hours; split it first")
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
    except BoyaError:
        raise
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as error:
        raise BoyaError(f"cannot decode audio {path}: {error}") from None
    samples = np.concatenate(chunks).astype(np.float32) / 32768.0 if chunks else np.zeros(0, np.float32)
    if len(samples) == 0:
        raise BoyaError(f"{path} contains no audio samples")
    return samples


def resample(samples: np.ndarray, rate_in: int, rate_out: int = RATE) -> np.ndarray:
    """Band-limited polyphase resampling (scipy)."""
    if rate_in == rate_out:
        return samples.astype(np.float32)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(rate_in, rate_out)
    return resample_poly(samples, rate_out // g, rate_in // g).astype(np.float32)


def wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    """16-bit mono WAV file contents."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()
