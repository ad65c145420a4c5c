"""Simulated classes: IRT students who learn and may drop out, practising under different difficulty policies.

The world is not the generator's: each knowledge point gets its own true base hardness and its own spacing
between levels (the generator assumes 0.9 logits per level around 0), so a policy that trusts the labels misses
the band. Every policy sees the same students, the same answer draws and the same quit draws (common random
numbers) and the same ZPDES choice of knowledge point; only the difficulty choice differs:

- ``engine``: the app's policy (target p ≈ 0.75 with calibrated hardness, streak-aware, safety step down);
- ``random``: a uniformly random level;
- ``staircase``: 2-down/1-up per knowledge point (two hits: one level up; a miss: one level down), from level 3;
- ``maxinfo``: catsim's maximum-information selector on the labelled item bank with catsim's θ estimator.

Students learn after each item in proportion to g(p), p the true success probability: ``zpd`` g peaks at
p = 0.75; ``info`` g = 4p(1 − p). They quit with hazard 0.005 per item, +0.06 after 3 misses in a row
(frustration), +0.03 after 6 hits in a row (boredom). Metrics: share of items whose true p lies in [0.60, 0.85],
observed success, completion (all items done), mean ability gain, milliseconds per decision.
"""

import math
import time
from dataclasses import dataclass
from random import Random

import numpy as np
from boya.errors import BoyaError

from . import policy
from . import student_model as sm
from .graph import servable_graph

POLICIES = ("engine", "random", "staircase", "maxinfo")
LEARNING = ("zpd", "info")


@dataclass
class World:
    kps: list[str]
    true_b: dict[tuple[str, int], float]


def make_world(seed: int) -> World:
    rng = np.random.default_rng(seed)
    kps = sorted(servable_graph())
    true_b = {}
    for kp in kps:
        base, spacing = rng.normal(0.0, 0.6), rng.uniform(0.45, 1.4)
        for d in range(1, 6):
            true_b[(kp, d)] = base + spacing * (d - 3) + rng.normal(0.0, 0.15)
    return World(kps, true_b)


def _learn(p: float, learning: str, offsets: dict, kp: str, theta: float) -> float:
    """One practice item's learning: the KP's own skill grows most, general ability a little; returns the new ability."""
    g = _gain(p, learning)
    offsets[kp] += 0.05 * g
    return theta + 0.01 * g


def _quit_hazard(miss_run: int, hit_run: int) -> float:
    """Chance of quitting after an item: a base rate, more after 3 misses or 6 hits in a row."""
    return 0.005 + (0.06 if miss_run >= 3 else 0.0) + (0.03 if hit_run >= 6 else 0.0)


def _gain(p: float, learning: str) -> float:
    return math.exp(-((p - 0.75) ** 2) / (2 * 0.15**2)) if learning == "zpd" else 4 * p * (1 - p)


class _MaxInfo:
    """catsim's MaxInfoSelector and NumericalSearchEstimator over the five labelled levels of a KP."""

    def __init__(self):
        try:
            from catsim.estimation import NumericalSearchEstimator
            from catsim.item_bank import ItemBank
            from catsim.selection import MaxInfoSelector
        except ImportError:
            raise BoyaError("the maxinfo policy needs catsim: pip install catsim") from None
        params = np.array([[1.0, sm.prior_hardness(d), 0.0, 1.0] for d in range(1, 6)])
        self.bank = ItemBank(params)
        self.selector, self.estimator = MaxInfoSelector(), NumericalSearchEstimator()

    def choose(self, history: list[tuple[int, bool]]) -> int:
        theta = 0.0
        if history:
            items, responses = [d - 1 for d, _ in history], [bool(r) for _, r in history]
            if any(responses) and not all(responses):
                theta = float(
                    self.estimator.estimate(
                        item_bank=self.bank,
                        administered_items=items,
                        response_vector=responses,
                        est_theta=0.0,
                    )
                )
            else:
                theta = 2.0 if all(responses) else -2.0
        return int(self.selector.select(item_bank=self.bank, administered_items=[], est_theta=theta)) + 1


def run(policy_name: str, students: int = 300, items: int = 30, seed: int = 0, learning: str = "zpd") -> dict:
    """Simulate one policy; same seed → same students, draws and world as any other policy."""
    if policy_name not in POLICIES:
        raise BoyaError(f"unknown policy {policy_name!r}; choose from {', '.join(POLICIES)}")
    if learning not in LEARNING:
        raise BoyaError(f"unknown learning model {learning!r}; choose zpd or info")
    if students < 1 or items < 1:
        raise BoyaError("students and items must be at least 1")
    world = make_world(seed)
    draws = np.random.default_rng(seed + 1)
    hardness = sm.Hardness()
    maxinfo = _MaxInfo() if policy_name == "maxinfo" else None
    in_band = served = successes = completed = 0
    gains, decision_s = [], 0.0
    for s in range(students):
        theta = draws.normal(0.0, 1.0)
        offsets = {kp: draws.normal(0.0, 0.4) for kp in world.kps}
        u_answer, u_quit = draws.random(items), draws.random(items)
        choice_rng, random_rng = Random(seed * 100003 + s), Random(seed * 7919 + s)
        state = sm.StudentState()
        ladder, stair_hits, history = {}, {}, {}
        miss_run = hit_run = 0
        start = theta + sum(offsets.values()) / len(offsets)
        current = None
        finished = True
        for i in range(items):
            t0 = time.perf_counter()
            kp = policy.choose_kp(state, hardness, choice_rng, current=current)
            sm.kp_state(state, kp, policy.prerequisites(kp))
            if policy_name == "engine":
                d = policy.choose_difficulty(state, hardness, kp)
            elif policy_name == "random":
                d = random_rng.randint(1, 5)
            elif policy_name == "staircase":
                d = ladder.setdefault(kp, 3)
            else:
                d = maxinfo.choose(history.get(kp, []))
            decision_s += time.perf_counter() - t0
            p = sm.sigmoid(theta + offsets[kp] - world.true_b[(kp, d)])
            correct = bool(u_answer[i] < p)
            served += 1
            in_band += policy.BAND[0] <= p <= policy.BAND[1]
            successes += correct
            sm.update(state, hardness, kp, d, correct)
            history.setdefault(kp, []).append((d, correct))
            if policy_name == "staircase":
                hits = stair_hits.get(kp, 0) + 1 if correct else 0
                ladder[kp] = max(1, d - 1) if not correct else min(5, d + 1) if hits == 2 else d
                stair_hits[kp] = 0 if hits == 2 else hits
            theta = _learn(p, learning, offsets, kp, theta)
            current = kp
            miss_run, hit_run = (0, hit_run + 1) if correct else (miss_run + 1, 0)
            hazard = _quit_hazard(miss_run, hit_run)
            if i < items - 1 and u_quit[i] < hazard:
                finished = False
                break
        completed += finished
        gains.append(theta + sum(offsets.values()) / len(offsets) - start)
    return {
        "policy": policy_name,
        "learning": learning,
        "students": students,
        "items_served": served,
        "band_share": round(in_band / served, 4),
        "success": round(successes / served, 4),
        "completion": round(completed / students, 4),
        "gain": round(float(np.mean(gains)), 4),
        "ms_per_decision": round(1000 * decision_s / served, 3),
    }


def compare(
    policies=POLICIES,
    students: int = 300,
    items: int = 30,
    seed: int = 0,
    learning: str = "zpd",
    via_tutor: bool = False,
) -> dict:
    """Run several policies on the same class and check the bars the engine must meet."""
    simulate_one = run_via_tutor if via_tutor else run
    results = {name: simulate_one(name, students, items, seed, learning) for name in policies}
    report = {
        "students": students,
        "items": items,
        "seed": seed,
        "learning": learning,
        "via_tutor": via_tutor,
        "policies": results,
    }
    if "engine" in results:
        engine = results["engine"]
        bars = {}
        if "random" in results:
            bars["band_vs_random"] = round(
                engine["band_share"] / max(results["random"]["band_share"], 1e-9), 3
            )
            bars["band_vs_random_ok"] = bars["band_vs_random"] >= 1.4
        if "staircase" in results:
            stair = results["staircase"]
            bars["band_minus_staircase"] = round(engine["band_share"] - stair["band_share"], 4)
            bars["band_minus_staircase_ok"] = bars["band_minus_staircase"] >= 0.05
            bars["completion_minus_staircase"] = round(engine["completion"] - stair["completion"], 4)
            bars["completion_minus_staircase_ok"] = bars["completion_minus_staircase"] >= -0.02
        if "maxinfo" in results:
            bars["band_vs_maxinfo"] = round(
                engine["band_share"] / max(results["maxinfo"]["band_share"], 1e-9), 3
            )
        report["bars"] = bars
    return report


def run_via_tutor(
    policy_name: str,
    students: int = 100,
    items: int = 30,
    seed: int = 0,
    learning: str = "zpd",
    command: list[str] | None = None,
) -> dict:
    """Drive ``boya exercises tutor`` over its JSON-lines protocol, as an outside program would.

    The students, their world and the baselines live here, not in the engine. ``engine`` asks ``next`` and reports
    each ``answer``; the baselines walk the servable standards in grade order (eight items each) and ask
    ``generate`` for the level their rule picks (``maxinfo`` is not offered here: it needs catsim's bank of items).
    """
    import json
    import subprocess
    import sys
    import tempfile

    if policy_name not in ("engine", "random", "staircase"):
        raise BoyaError("over the tutor protocol the policies are engine, random and staircase")
    folder = tempfile.mkdtemp(prefix="boya-tutor-sim-")
    command = command or [
        sys.executable,
        "-c",
        "from boya.cli import main; main()",
        "exercises",
        "tutor",
        "--db",
        f"sqlite:///{folder}/tutor.db",
    ]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

    def ask(request: dict) -> dict:
        process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()
        response = json.loads(process.stdout.readline())
        if "error" in response:
            raise BoyaError(f"tutor answered {request['op']} with an error: {response['error']}")
        return response

    try:
        graph = ask({"op": "kg"})
        course = [
            node["id"]
            for node in sorted(
                (n for n in graph["nodes"] if n["servable"]), key=lambda n: (n["level"], n["id"])
            )
        ]
        world = make_world(seed)
        draws = np.random.default_rng(seed + 1)
        in_band = served = successes = completed = 0
        for s in range(students):
            theta = draws.normal(0.0, 1.0)
            offsets = {kp: draws.normal(0.0, 0.4) for kp in world.kps}
            u_answer, u_quit = draws.random(items), draws.random(items)
            random_rng = Random(seed * 7919 + s)
            level, hits, miss_run, hit_run, finished = 3, 0, 0, 0, True
            for i in range(items):
                if policy_name == "engine":
                    exercise = ask({"op": "next", "student": f"sim-{seed}-{s}"})["exercise"]
                else:
                    kp = course[(i // 8) % len(course)]
                    d = random_rng.randint(1, 5) if policy_name == "random" else level
                    exercise = ask({"op": "generate", "kp": kp, "difficulty": d, "type": "short_answer"})[
                        "exercise"
                    ]
                kp, d = exercise["kp"], exercise["difficulty"]
                p = sm.sigmoid(theta + offsets[kp] - world.true_b[(kp, d)])
                correct = bool(u_answer[i] < p)
                served += 1
                in_band += policy.BAND[0] <= p <= policy.BAND[1]
                successes += correct
                if policy_name == "engine":
                    ask(
                        {
                            "op": "answer",
                            "student": f"sim-{seed}-{s}",
                            "exercise_id": exercise["id"],
                            "correct": correct,
                        }
                    )
                if (i + 1) % 8 == 0:
                    level, hits = 3, 0
                elif correct:
                    hits += 1
                    if hits == 2:
                        level, hits = min(5, level + 1), 0
                else:
                    level, hits = max(1, level - 1), 0
                theta = _learn(p, learning, offsets, kp, theta)
                miss_run, hit_run = (0, hit_run + 1) if correct else (miss_run + 1, 0)
                hazard = _quit_hazard(miss_run, hit_run)
                if i < items - 1 and u_quit[i] < hazard:
                    finished = False
                    break
            completed += finished
    finally:
        process.stdin.close()
        process.wait(timeout=60)
    return {
        "policy": policy_name,
        "via": "tutor",
        "students": students,
        "items_served": served,
        "band_share": round(in_band / served, 4),
        "success": round(successes / served, 4),
        "completion": round(completed / students, 4),
    }
