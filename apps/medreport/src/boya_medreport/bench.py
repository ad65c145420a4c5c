"""``boya medreport bench``: load time, warm time per 30 s of dictation to validated HL7, WER and
audio->report micro-F1 on voices held out from ASR adaptation. Measured on one thread (on a shared
2-core box one thread was ~7x faster than two) with dictations in spoken style ("comma", "period",
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


def run(n: int = 20, audio: bool = True, seed: int = 7) -> dict:
    import torch

    from .dictations import dictation
    from .eval import score
    from .extract.model import Extractor

    torch.set_num_threads(1)
    rng = random.Random(seed)
    rows = [dictation(rng, "heldout", spoken=True) for _ in range(n)]
    texts = [r["dictation"] for r in rows]
    start = time.perf_counter()
    extractor = Extractor()
    result = {"extract_load_seconds": round(time.perf_counter() - start, 3), "notes": []}
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
        from .asr import load_transcriber, transcribe
        from .asr.speech import HELD_OUT_VOICES, synthesize
        from .asr.wer import word_error_rate

        start = time.perf_counter()
        load_transcriber("whisper")
        result["load_seconds"] = round(result["extract_load_seconds"] + time.perf_counter() - start, 3)
    except Exception as error:  # noqa: BLE001 - any missing piece of the audio stage is reported, not faked
        result["notes"].append(f"audio path not available: {type(error).__name__}: {error}")
        return result
    audio_seconds = pipeline_seconds = 0.0
    wer, golds, preds = {}, [], []
    for v, voice in enumerate(HELD_OUT_VOICES):
        voice_rows = rows[v::len(HELD_OUT_VOICES)] or rows[:1]
        hyps = []
        for row in voice_rows:
            samples = synthesize(row["dictation"], voice)
            audio_seconds += samples.size / 16000
            start = time.perf_counter()
            text = transcribe(samples, "whisper", sample_rate=16000)["text"]
            preds += _text_pipeline([text], extractor)
            pipeline_seconds += time.perf_counter() - start
            hyps.append(text)
            golds.append(row["report"])
        wer[voice] = round(word_error_rate([r["dictation"] for r in voice_rows], hyps), 4)
    result["wer_by_voice"] = wer
    result["seconds_per_30s_dictation"] = round(pipeline_seconds / audio_seconds * 30, 3)
    result["audio_seconds"] = round(audio_seconds, 1)
    scores = score(golds, preds)
    result["audio_micro_f1"], result["audio_findings_f1"] = scores["micro_f1"], scores["findings_f1"]
    return result
