"""``boya medreport bench``: load time, warm time per 30 s of dictation to validated HL7, WER and
audio->report micro-F1 on voices held out from ASR adaptation, with wall and CPU seconds per stage
(load: imports, extractor, Whisper; per 30 s: audio decoding, ASR, normalisation, extraction + rules
+ HL7). Measured on one thread (on a shared 2-core box one thread was ~7x faster than two) with dictations in spoken style ("comma", "period",
spoken numbers), which is what a radiologist says and the ASR + normaliser must handle.

The audio part needs the ASR stage (Whisper weights and the TTS voices); where it cannot
run, its figures are null and ``notes`` says why, never estimated.
"""

import random
import time


def _text_pipeline(texts, extractor):
    from . import hl7
    from .extract import extract_many

    reports = extract_many(texts, extractor)
    for i, report in enumerate(reports):
        if report["patient"].get("name") and report["patient"].get("mrn"):
            er7 = hl7.build_oru(report, f"BENCH{i:05d}")
            if hl7.validate(er7):
                raise AssertionError("bench produced an invalid HL7 message")
    return reports


class _Clock:
    """Wall and CPU seconds of named stages, summed over calls (CPU time stays honest on a shared box)."""

    def __init__(self):
        self.wall, self.cpu = {}, {}

    def time(self, stage, fn, *args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn(*args, **kwargs)
        self.wall[stage] = self.wall.get(stage, 0.0) + time.perf_counter() - wall
        self.cpu[stage] = self.cpu.get(stage, 0.0) + time.process_time() - cpu
        return result


def run(n: int = 20, audio: bool = True, seed: int = 7, adapter: bool = True) -> dict:
    """The figures of ``boya medreport bench``; ``adapter=False`` measures the base Whisper (no LoRA)."""
    load = _Clock()
    load.time("import_torch_transformers", __import__, "transformers.models.whisper.modeling_whisper")
    import torch

    from .dictations import dictation
    from .eval import score
    from .extract.model import Extractor

    torch.set_num_threads(1)
    rng = random.Random(seed)
    rows = [dictation(rng, "heldout", spoken=True) for _ in range(n)]
    texts = [r["dictation"] for r in rows]
    extractor = load.time("extractor", Extractor)
    result = {"extract_load_seconds": round(load.wall["extractor"], 3), "threads": torch.get_num_threads(), "notes": []}
    _text_pipeline(texts[:2], extractor)  # warm-up
    start = time.perf_counter()
    for text in texts:
        _text_pipeline([text], extractor)
    result["text_seconds_per_dictation"] = round((time.perf_counter() - start) / n, 4)
    result.update({"load_seconds": None, "seconds_per_30s_dictation": None, "wer_by_voice": None, "audio_micro_f1": None})
    if not audio:
        result["notes"].append("audio path not measured (--no-audio)")
        return result
    try:
        from .asr import RADIOLOGY_PROMPT
        from .asr.speech import HELD_OUT_VOICES, synthesize
        from .asr.wer import word_error_rate
        from .asr.whisper import WhisperTranscriber
        from .audio import load_audio
        from .normalize import normalize

        transcriber = load.time("whisper", WhisperTranscriber, adapter=None if adapter else False)
    except Exception as error:  # noqa: BLE001 - any missing piece of the audio stage is reported, not faked
        result["notes"].append(f"audio path not available: {type(error).__name__}: {error}")
        return result
    result["load_seconds"] = round(sum(load.wall.values()), 3)
    result["load_cpu_seconds"] = {k: round(v, 3) for k, v in load.cpu.items()}
    result["asr_adapter"] = str(transcriber.adapter) if transcriber.adapter else None
    stages, audio_seconds = _Clock(), 0.0
    wer, golds, preds = {}, [], []
    for v, voice in enumerate(HELD_OUT_VOICES):
        voice_rows = rows[v::len(HELD_OUT_VOICES)] or rows[:1]
        hyps = []
        for row in voice_rows:
            samples = synthesize(row["dictation"], voice)
            audio_seconds += samples.size / 16000
            samples = stages.time("audio", load_audio, samples, sample_rate=16000)
            spoken = stages.time("asr", transcriber.transcribe, samples, RADIOLOGY_PROMPT)
            text = stages.time("normalize", normalize, spoken)
            preds += stages.time("extract_rules_hl7", _text_pipeline, [text], extractor)
            hyps.append(text)
            golds.append(row["report"])
        wer[voice] = round(word_error_rate([r["dictation"] for r in voice_rows], hyps), 4)
    per_30s = 30 / audio_seconds
    result["wer_by_voice"] = wer
    result["seconds_per_30s_dictation"] = round(sum(stages.wall.values()) * per_30s, 3)
    result["cpu_seconds_per_30s_by_stage"] = {k: round(v * per_30s, 3) for k, v in stages.cpu.items()}
    result["cpu_seconds_per_30s_dictation"] = round(sum(stages.cpu.values()) * per_30s, 3)
    result["audio_seconds"] = round(audio_seconds, 1)
    scores = score(golds, preds)
    result["audio_micro_f1"], result["audio_findings_f1"] = scores["micro_f1"], scores["findings_f1"]
    result["audio_field_accuracy"] = scores["field_accuracy"]
    return result
