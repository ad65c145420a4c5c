"""Synthetic dictation audio: text spoken by offline TTS voices, for measuring (and adapting) ASR.

No redistributable medical dictation audio exists offline, so we make it: three
Debian TTS engines (espeak-ng, flite, festival) give a dozen clearly different
voices. ``TRAIN_VOICES`` and ``HELD_OUT_VOICES`` are disjoint, with every engine on
both sides, so a recogniser adapted on the first is measured on speakers it never
heard. Engines that are not installed raise a ``BoyaError`` naming the apt package.

:func:`augment` adds what a real room adds: speed changes and background noise.
"""

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from boya.errors import BoyaError

from ..audio import SAMPLE_RATE, load_audio

# voice name -> (engine, engine's voice argument)
VOICES = {
    "espeak-us": ("espeak-ng", "en-us"),
    "espeak-us-f2": ("espeak-ng", "en-us+f2"),
    "espeak-us-m1": ("espeak-ng", "en-us+m1"),
    "espeak-gb-m4": ("espeak-ng", "en-gb+m4"),
    "espeak-rp-f4": ("espeak-ng", "en-gb-x-rp+f4"),
    "espeak-caribbean-m3": ("espeak-ng", "en-029+m3"),
    "espeak-scotland-f3": ("espeak-ng", "en-gb-scotland+f3"),
    "espeak-rp-m3": ("espeak-ng", "en-gb-x-rp+m3"),
    "flite-awb": ("flite", "awb"),
    "flite-rms": ("flite", "rms"),
    "flite-kal16": ("flite", "kal16"),
    "flite-slt": ("flite", "slt"),
    "festival-ked": ("festival", "ked_diphone"),
    "festival-kal": ("festival", "kal_diphone"),
    "festival-slt-hts": ("festival", "cmu_us_slt_arctic_hts"),
}
TRAIN_VOICES = ("espeak-us-f2", "espeak-us-m1", "espeak-gb-m4", "espeak-rp-f4", "espeak-caribbean-m3", "espeak-scotland-f3",
                "flite-awb", "flite-rms", "flite-kal16", "festival-ked")  # fmt: skip
HELD_OUT_VOICES = ("espeak-us", "espeak-rp-m3", "flite-slt", "festival-kal", "festival-slt-hts")
_APT = {
    "espeak-ng": "espeak-ng",
    "flite": "flite",
    "festival": "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts",
}


def synthesize(text: str, voice: str = "espeak-us", speed: float = 1.0) -> np.ndarray:
    """Speak ``text`` with a named voice; 16 kHz mono float32. ``speed`` > 1 talks faster."""
    if voice not in VOICES:
        raise BoyaError(f"unknown voice {voice!r}; known: {', '.join(VOICES)}")
    engine, name = VOICES[voice]
    program = "text2wave" if engine == "festival" else engine
    if shutil.which(program) is None:
        raise BoyaError(f"voice {voice} needs {program}: apt-get install -y {_APT[engine]}")
    with tempfile.TemporaryDirectory(prefix="boya-tts-") as tmp:
        script, wav = Path(tmp) / "script.txt", Path(tmp) / "speech.wav"
        script.write_text(text + "\n")
        if engine == "espeak-ng":
            command = [program, "-v", name, "-s", str(round(160 * speed)), "-f", str(script), "-w", str(wav)]
        elif engine == "flite":
            command = [
                program,
                "-voice",
                name,
                "--setf",
                f"duration_stretch={1 / speed:.3f}",
                "-f",
                str(script),
                "-o",
                str(wav),
            ]
        else:
            stretch = f"(Parameter.set 'Duration_Stretch {1 / speed:.3f})"
            command = [program, "-eval", f"(voice_{name})", "-eval", stretch, str(script), "-o", str(wav)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if result.returncode != 0 or not wav.is_file():
            raise BoyaError(f"{program} failed for voice {voice}: {result.stderr.strip()[:200]}")
        return load_audio(wav, max_seconds=600)


def augment(
    samples: np.ndarray,
    rng: np.random.Generator,
    speed: float = 1.0,
    snr_db: float | None = None,
    band_limit: bool = False,
) -> np.ndarray:
    """Resample to play ``speed`` times faster (pitch moves with it, like tape), keep only the
    telephone band (300-3400 Hz) if ``band_limit``, and add noise at ``snr_db``.

    The noise is pink (power falling as 1/f, shaped in the frequency domain), closer to
    room and fan noise than white noise.
    """
    if speed != 1.0:
        positions = np.arange(0, samples.size - 1, speed)
        samples = np.interp(positions, np.arange(samples.size), samples).astype(np.float32)
    if band_limit:
        spectrum = np.fft.rfft(samples)
        frequencies = np.fft.rfftfreq(samples.size, 1 / SAMPLE_RATE)
        spectrum[(frequencies < 300) | (frequencies > 3400)] = 0
        samples = np.fft.irfft(spectrum, n=samples.size).astype(np.float32)
    if snr_db is not None:
        spectrum = np.fft.rfft(rng.standard_normal(samples.size))
        spectrum /= np.sqrt(np.maximum(np.fft.rfftfreq(samples.size, 1 / SAMPLE_RATE), 20.0))
        noise = np.fft.irfft(spectrum, n=samples.size).astype(np.float32)
        signal_power = float(np.mean(samples**2)) or 1e-12
        noise *= np.sqrt(signal_power / (float(np.mean(noise**2)) * 10 ** (snr_db / 10)))
        samples = np.clip(samples + noise, -1.0, 1.0)
    return samples.astype(np.float32)
