"""``boya medreport bench``: load time, warm time per 30 s of dictation to validated HL7, WER and
audio->report micro-F1 on voices held out from ASR adaptation, with wall and CPU seconds per stage
(load: imports, extractor, Whisper; per 30 s: audio decoding, ASR, normalisation, extraction + rules
+ HL7), and the ASR's encoder CPU seconds and decoder CPU milliseconds per token on one dictation,
and the decoder passes and tokens (with greedy speculative decoding, also tokens per pass and the
share of guessed tokens kept).
Measured on one thread (on a shared 2-core box one thread was ~7x faster than two) with dictations
in spoken style ("comma", "period", spoken numbers), which is what a radiologist says and the ASR +
normaliser must handle. The load figures time ``import torch`` and our ASR modules: transcribing
never imports transformers (its Whisper import alone was ~9.5 s of CPU).

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


def run(
    n: int = 20,
    audio: bool = True,
    seed: int = 7,
    adapter: bool = True,
    threads: int = 1,
    beam_size: int | None = None,
    speculative: bool = True,
    unseen_names: bool = False,
    asr: str = "whisper",
    encoder_precision: str = "auto",
) -> dict:
    """The figures of ``boya medreport bench``; ``asr`` names the ASR backend (any the
    ``asr_backends`` hook registers; the Whisper-only figures are left out for others).
    For Whisper, ``adapter=False`` measures the base model (no LoRA), ``beam_size`` sets the
    beams (None: the transcriber's default; 1: greedy), and with one beam ``speculative=False``
    decodes one token per decoder pass (the same text, for comparison), and ``encoder_precision`` is
    the transcriber's ("auto": bf16 where the CPU has bf16 instructions, else fp32).
    ``unseen_names=True`` gives every dictation a patient name from no generator list (see
    :data:`.dictations.UNSEEN_FIRST`), the same dictations otherwise.

    ``threads=2`` measures the "2 CPU cores" bar on a quiet machine (on a shared one it is slower).
    """
    load = _Clock()
    load.time("import_torch", __import__, "torch")
    load.time("import_asr", __import__, "boya_medreport.asr.whisper_decode")  # our Whisper; no transformers
    import torch

    from .dictations import UNSEEN_FIRST, UNSEEN_LAST, dictation, with_name
    from .eval import score
    from .extract.model import Extractor

    torch.set_num_threads(threads)
    rng = random.Random(seed)
    rows = [dictation(rng, "heldout", spoken=True) for _ in range(n)]
    if unseen_names:
        names = random.Random(seed + 1)
        rows = [with_name(r, f"{names.choice(UNSEEN_FIRST)} {names.choice(UNSEEN_LAST)}") for r in rows]
    texts = [r["dictation"] for r in rows]
    extractor = load.time("extractor", Extractor)
    result = {
        "extract_load_seconds": round(load.wall["extractor"], 3),
        "threads": torch.get_num_threads(),
        "patient_names": "unseen" if unseen_names else "generator lists",
        "notes": [],
    }
    _text_pipeline(texts[:2], extractor)  # warm-up
    start = time.perf_counter()
    for text in texts:
        _text_pipeline([text], extractor)
    result["text_seconds_per_dictation"] = round((time.perf_counter() - start) / n, 4)
    result.update(
        {
            "load_seconds": None,
            "seconds_per_30s_dictation": None,
            "wer_by_voice": None,
            "audio_micro_f1": None,
        }
    )
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

        if asr == "whisper":
            beams = {} if beam_size is None else {"beam_size": beam_size}
            transcriber = load.time(
                "whisper",
                WhisperTranscriber,
                adapter=None if adapter else False,
                speculative=speculative,
                encoder_precision=encoder_precision,
                **beams,
            )
        else:
            from .asr import backends

            transcriber = load.time(asr, backends()[asr])
    except Exception as error:  # noqa: BLE001 - any missing piece of the audio stage is reported, not faked
        result["notes"].append(f"audio path not available: {type(error).__name__}: {error}")
        return result
    result["load_seconds"] = round(sum(load.wall.values()), 3)
    result["load_cpu_seconds"] = {k: round(v, 3) for k, v in load.cpu.items()}
    result["asr_backend"] = asr
    result["asr_adapter"] = str(transcriber.adapter) if getattr(transcriber, "adapter", None) else None
    # warm: the first transcription pays one-time costs (the thread pool, first allocations: ~0.25 s)
    warm_up = load_audio(synthesize("This is a warm up period.", HELD_OUT_VOICES[0]), sample_rate=16000)
    transcriber.transcribe(warm_up, RADIOLOGY_PROMPT)
    counted_before = dict(transcriber.decoder.stats) if asr == "whisper" else None
    stages, audio_seconds = _Clock(), 0.0
    wer, golds, preds = {}, [], []
    for v, voice in enumerate(HELD_OUT_VOICES):
        voice_rows = rows[v :: len(HELD_OUT_VOICES)] or rows[:1]
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
    if asr == "whisper":
        result["asr_beam_size"] = transcriber.beam_size
        result["asr_encoder_precision"] = transcriber.encoder_precision
        stats = transcriber.decoder.stats
        result["asr_decoding"] = _decoding_stats({k: stats[k] - counted_before[k] for k in stats})
        samples = load_audio(synthesize(rows[0]["dictation"], HELD_OUT_VOICES[0]), sample_rate=16000)
        result.update(_asr_split(transcriber, samples))
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


def _decoding_stats(stats: dict) -> dict:
    """Decoder passes after each window's prompt pass, the beam searches among them, and what the drafts
    contributed."""
    passes = stats["passes"]
    return {
        "windows": stats["windows"],
        "tokens": stats["tokens"],
        "passes": passes,
        "lookaheads": stats["lookaheads"],
        "beam_passes": stats["beam_passes"],
        "tokens_per_pass": round((stats["tokens"] - stats["windows"]) / passes, 3) if passes else None,
        "draft_acceptance": round(stats["accepted"] / stats["drafted"], 3) if stats["drafted"] else None,
    }


def _asr_split(transcriber, samples) -> dict:
    """CPU seconds of the encoder (with cross-attention keys/values) and CPU ms per decoded token, one window."""
    import torch

    from .asr import RADIOLOGY_PROMPT
    from .asr.log_mel import log_mel

    model, decoder, generation = transcriber.model, transcriber.decoder, transcriber.generation
    features = log_mel(samples[: 30 * 16000], model.config["num_mel_bins"])
    prompt = transcriber.previous_text_ids(RADIOLOGY_PROMPT) + generation["start"]
    with torch.inference_mode():
        start = time.process_time()
        model.cross_keys_values(model.encode(features))
        encoder = time.process_time() - start
        start = time.process_time()
        tokens = decoder.generate(features, prompt, eos=generation["eos"], max_new_tokens=224,
                                  suppress=generation["suppress"], begin_suppress=generation["begin_suppress"])  # fmt: skip
        decoding = time.process_time() - start - encoder  # the prompt prefill included
    return {
        "asr_encoder_cpu_seconds": round(encoder, 3),
        "asr_cpu_ms_per_token": round(1000 * decoding / len(tokens), 2),
        "asr_tokens": len(tokens),
    }
