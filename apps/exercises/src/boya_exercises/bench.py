"""``boya exercises bench``: generation latency and verification rate, and the wording model against the templates."""

import math
import time
from collections import Counter, defaultdict
from dataclasses import replace
from random import Random

from .exercise import TYPES, generate, render
from .generators import all_specs
from .verify import verify


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1)]


def generation(per_cell: int = 1, seed: int = 0) -> dict:
    """Every KP × type × difficulty, ``per_cell`` times: generate + verify latency and the re-verified share.

    Wall-clock and CPU time are both reported: on a shared machine the wall clock mostly measures the neighbours.
    The CPU p95 per family of knowledge points shows which templates (and which sympy work) cost the most.
    """
    times, cpu_times, verified, total = [], [], 0, 0
    family_cpu_times = defaultdict(list)
    for kp, spec in all_specs().items():
        for exercise_type in TYPES:
            for difficulty in range(1, 6):
                for i in range(per_cell):
                    start, cpu_start = time.perf_counter(), time.process_time()
                    exercise = generate(
                        kp, exercise_type, difficulty, seed=seed * 1000003 + i * 7 + difficulty
                    )
                    times.append(1000 * (time.perf_counter() - start))
                    cpu_times.append(1000 * (time.process_time() - cpu_start))
                    family_cpu_times[spec.family].append(cpu_times[-1])
                    total += 1
                    verified += exercise["verified"] and verify(exercise).ok
    families = {family: round(_percentile(values, 0.95), 2) for family, values in family_cpu_times.items()}
    return {
        "exercises": total,
        "verified_rate": verified / total,
        "generate_ms_p50": round(_percentile(times, 0.5), 2),
        "generate_ms_p95": round(_percentile(times, 0.95), 2),
        "generate_ms_max": round(max(times), 2),
        "generate_cpu_ms_p50": round(_percentile(cpu_times, 0.5), 2),
        "generate_cpu_ms_p95": round(_percentile(cpu_times, 0.95), 2),
        "family_cpu_ms_p95": dict(sorted(families.items(), key=lambda item: -item[1])),
        "slowest_family": max(families, key=families.get),
        "kps": len(all_specs()),
    }


def distinct_n(texts: list[str], n: int = 2) -> float:
    grams = [
        tuple(words[i : i + n]) for words in (t.split() for t in texts) for i in range(len(words) - n + 1)
    ]
    return len(set(grams)) / max(len(grams), 1)


def self_bleu(texts: list[str], limit: int = 100) -> float:
    """Mean BLEU-4 (add-one smoothed, brevity penalty) of each text against all the others: lower = more diverse."""
    texts = texts[:limit]
    scores = []
    for i, hypothesis in enumerate(texts):
        words = hypothesis.split()
        references = [t.split() for j, t in enumerate(texts) if j != i]
        log_precision = 0.0
        for n in range(1, 5):
            grams = Counter(tuple(words[k : k + n]) for k in range(len(words) - n + 1))
            best = Counter()
            for ref in references:
                for gram, count in Counter(tuple(ref[k : k + n]) for k in range(len(ref) - n + 1)).items():
                    best[gram] = max(best[gram], count)
            clipped = sum(min(count, best[gram]) for gram, count in grams.items())
            log_precision += math.log((clipped + 1) / (sum(grams.values()) + 1)) / 4
        closest = min((abs(len(r) - len(words)), len(r)) for r in references)[1]
        brevity = 1.0 if len(words) > closest else math.exp(1 - closest / max(len(words), 1))
        scores.append(brevity * math.exp(log_precision))
    return sum(scores) / len(scores)


def wording(writer, samples: int = 120, seed: int = 0) -> dict:
    """The wording model against the template frames on the same problems: parse, usable, novelty, diversity."""
    from .wording import read_word_problem, solve_facts, tell, template_facts
    from .wording_gpt2 import corpus

    rng = Random(seed)
    specs = all_specs()
    training_stories = {story.strip() for _, story in corpus(6000, 0)}
    model_stories, template_stories = [], []
    parsed = usable = 0
    elapsed = 0.0
    while len(template_stories) < samples:
        kp = rng.choice(sorted(specs))
        problem = specs[kp].make(rng, rng.randint(1, 5))
        facts = template_facts(problem.stem)
        if facts is None or solve_facts(facts) is None or not writer.knows(kp, facts):
            continue
        start = time.perf_counter()
        story = writer.write(kp, facts, rng.getrandbits(31))
        elapsed += time.perf_counter() - start
        read = read_word_problem(story)
        parsed += read is not None
        exercise = render(replace(problem, stem=story), kp, "short_answer", 1, rng)
        usable += exercise is not None and verify(exercise).ok
        model_stories.append(story)
        template_stories.append(tell(facts, rng))
    return {
        "samples": samples,
        "parse_rate": parsed / samples,
        "verified_usable_rate": usable / samples,
        "novelty": sum(s not in training_stories for s in model_stories) / samples,
        "distinct_2": round(distinct_n(model_stories), 4),
        "distinct_2_templates": round(distinct_n(template_stories), 4),
        "self_bleu": round(self_bleu(model_stories), 4),
        "self_bleu_templates": round(self_bleu(template_stories), 4),
        "ms_per_story": round(1000 * elapsed / samples, 1),
    }
