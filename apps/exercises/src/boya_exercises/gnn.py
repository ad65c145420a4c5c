"""A graph network over the servable knowledge graph that predicts success on standards a student has not practised.

Question: does the graph help predict a student's first answer on a new standard beyond a per-KP IRT baseline
(student ability from all their answers, calibrated hardness per (KP, difficulty))? Simulated logs answer it:
students whose ability on a standard builds on their ability on its prerequisites practise some standards; we
predict their answers on the others. The GNN gets, per node, whether it was practised, its success residual
against the baseline and a learned KP embedding, passes messages twice over the symmetric normalised adjacency,
and scores (KP, difficulty) together with the baseline logit — so it can only add to what IRT already knows.
``evaluate`` reports both AUCs on held-out students; the engine keeps its IRT prior unless the GNN wins.
"""

from dataclasses import dataclass
from random import Random

import numpy as np

from .graph import servable_graph
from .student_model import sigmoid


@dataclass
class Log:
    """One simulated student: answers on practised KPs, and held-out first answers on unpractised ones."""

    practised: list[tuple[int, int, int]]  # (kp index, difficulty, correct)
    targets: list[tuple[int, int, int]]


def kp_order() -> list[str]:
    graph = servable_graph()
    return sorted(graph, key=lambda kp: (graph.nodes[kp]["level"], kp))


def simulate_logs(
    students: int, seed: int, practised_share: float = 0.4, answers: int = 4, targets: int = 4
) -> list[Log]:
    """Students whose KP abilities inherit 60% of their prerequisites' (plus noise); hardness per (KP, level)."""
    import networkx as nx

    graph, kps = servable_graph(), kp_order()
    index = {kp: i for i, kp in enumerate(kps)}
    world = np.random.default_rng(seed)
    base = {kp: world.normal(0, 0.6) for kp in kps}
    spacing = {kp: world.uniform(0.45, 1.4) for kp in kps}
    rng = np.random.default_rng(seed + 1)
    logs = []
    for _ in range(students):
        theta, own = rng.normal(0, 1), {}
        for kp in nx.topological_sort(graph):
            parents = [own[p] for p in graph.predecessors(kp)]
            own[kp] = 0.6 * (sum(parents) / len(parents) if parents else 0.0) + rng.normal(0, 0.6)
        chosen = rng.random(len(kps)) < practised_share
        log = Log([], [])
        for kp in kps:
            rounds = answers if chosen[index[kp]] else 0
            for _ in range(rounds):
                d = int(rng.integers(1, 6))
                p = sigmoid(theta + own[kp] - base[kp] - spacing[kp] * (d - 3))
                log.practised.append((index[kp], d, int(rng.random() < p)))
        unpractised = [kp for kp in kps if not chosen[index[kp]]]
        for kp in rng.choice(unpractised, size=min(targets, len(unpractised)), replace=False):
            d = int(rng.integers(1, 6))
            p = sigmoid(theta + own[kp] - base[kp] - spacing[kp] * (d - 3))
            log.targets.append((index[str(kp)], d, int(rng.random() < p)))
        logs.append(log)
    return logs


class IRTBaseline:
    """Hardness per (KP, level) from training answers; each student's θ by Newton steps on their own answers."""

    def __init__(self, logs: list[Log], n_kps: int):
        hits, counts = np.ones((n_kps, 6)), np.full((n_kps, 6), 2.0)
        for log in logs:
            for k, d, y in log.practised + log.targets:
                hits[k, d] += y
                counts[k, d] += 1
        self.b = -np.log(hits / (counts - hits))

    def theta(self, log: Log) -> float:
        theta = 0.0
        for _ in range(8):
            grad, hess = 0.0, 1.0  # N(0, 1) prior
            grad -= theta
            for k, d, y in log.practised:
                p = sigmoid(theta - self.b[k, d])
                grad += y - p
                hess += p * (1 - p)
            theta += grad / hess
        return theta

    def logit(self, log: Log, k: int, d: int, theta: float | None = None) -> float:
        return (self.theta(log) if theta is None else theta) - self.b[k, d]


def features(logs: list[Log], baseline: IRTBaseline, n_kps: int):
    """Per student: node features (practised, mean residual, answers/5) and the targets with their baseline logits."""
    import torch

    x = torch.zeros(len(logs), n_kps, 3)
    rows = []
    for s, log in enumerate(logs):
        theta = baseline.theta(log)
        residual, count = np.zeros(n_kps), np.zeros(n_kps)
        for k, d, y in log.practised:
            residual[k] += y - sigmoid(theta - baseline.b[k, d])
            count[k] += 1
        seen = count > 0
        x[s, :, 0] = torch.tensor(seen, dtype=torch.float32)
        x[s, seen, 1] = torch.tensor(residual[seen] / count[seen], dtype=torch.float32)
        x[s, :, 2] = torch.tensor(count / 5, dtype=torch.float32)
        rows.extend((s, k, d, y, baseline.logit(log, k, d, theta)) for k, d, y in log.targets)
    student, kp, level, label, base = (torch.tensor([r[i] for r in rows]) for i in range(5))
    return {"x": x, "student": student, "kp": kp, "level": level, "y": label.float(), "base": base.float()}


def adjacency(n_kps: int):
    """Symmetric normalised adjacency with self-loops, D^-1/2 (A + I) D^-1/2, of the servable graph."""
    import torch

    index = {kp: i for i, kp in enumerate(kp_order())}
    a = torch.eye(n_kps)
    for u, v in servable_graph().edges():
        a[index[u], index[v]] = a[index[v], index[u]] = 1.0
    d = a.sum(1).rsqrt()
    return d[:, None] * a * d[None, :]


def build_model(n_kps: int, dim: int = 32):
    import torch
    from torch import nn

    class GraphSuccess(nn.Module):
        """Two graph convolutions over the KP graph; the target KP's state + level + baseline logit → logit."""

        def __init__(self):
            super().__init__()
            self.register_buffer("adj", adjacency(n_kps))
            self.kp = nn.Embedding(n_kps, dim)
            self.inp = nn.Linear(3 + dim, dim)
            self.conv1, self.conv2 = nn.Linear(dim, dim), nn.Linear(dim, dim)
            self.level = nn.Embedding(6, dim)
            self.out = nn.Sequential(nn.Linear(2 * dim, dim), nn.ReLU(), nn.Linear(dim, 1))
            self.base_weight = nn.Parameter(torch.ones(()))

        def forward(self, x, student, kp, level, base):
            # (B, K, D)
            h = torch.relu(self.inp(torch.cat([x, self.kp.weight.expand(x.shape[0], -1, -1)], -1)))
            h = torch.relu(self.conv1(self.adj @ h)) + h
            h = torch.relu(self.conv2(self.adj @ h)) + h
            node = h[student, kp]  # (T, D)
            return self.base_weight * base + self.out(torch.cat([node, self.level(level)], -1)).squeeze(-1)

    return GraphSuccess()


def batches(data: dict, students_per_batch: int) -> list[dict]:
    n = data["x"].shape[0]
    return [
        _slice(data, start, min(n, start + students_per_batch)) for start in range(0, n, students_per_batch)
    ]


def loss_fn(model, batch):
    import torch.nn.functional as F

    logits = model(batch["x"], batch["student"], batch["kp"], batch["level"], batch["base"])
    return F.binary_cross_entropy_with_logits(logits, batch["y"], reduction="sum"), batch["y"].numel()


def train_and_evaluate(config, train_students: int = 3000, test_students: int = 600) -> dict:
    """Recipe ``exercises-gnn``: simulate logs, fit the IRT baseline, train the GNN with boya.runtime, compare AUCs."""
    import json
    from pathlib import Path

    import torch
    from boya.runtime import Trainer

    from .kt import auc

    n_kps = len(kp_order())
    logs = simulate_logs(train_students + test_students, config.seed)
    Random(config.seed).shuffle(logs)
    train_logs, test_logs = logs[:train_students], logs[train_students:]
    baseline = IRTBaseline(train_logs, n_kps)
    train_data, test_data = features(train_logs, baseline, n_kps), features(test_logs, baseline, n_kps)
    model = build_model(n_kps)
    held = train_students // 10
    trainer = Trainer(model, config, loss_fn=loss_fn)
    trainer.fit(
        batches(_slice(train_data, held, train_students), 64), batches(_slice(train_data, 0, held), 64)
    )
    model.eval()
    with torch.no_grad():
        logits = model(
            test_data["x"], test_data["student"], test_data["kp"], test_data["level"], test_data["base"]
        )
    labels = test_data["y"].numpy()
    report = {
        "recipe": "exercises-gnn",
        "seed": config.seed,
        "test_targets": int(len(labels)),
        "auc_gnn": round(auc(torch.sigmoid(logits).numpy(), labels), 4),
        "auc_irt_baseline": round(auc(torch.sigmoid(test_data["base"]).numpy(), labels), 4),
        "auc_kp_mean": round(
            auc(
                np.array(
                    [
                        -baseline.b[k, d]
                        for k, d in zip(test_data["kp"].tolist(), test_data["level"].tolist(), strict=True)
                    ]
                ),
                labels,
            ),
            4,
        ),
    }
    report["gnn_helps"] = report["auc_gnn"] > report["auc_irt_baseline"] + 0.005
    Path(config.out_dir, "gnn.json").write_text(json.dumps(report, indent=2))
    return report


def _slice(data: dict, start: int, stop: int) -> dict:
    """Students ``start:stop`` of a feature set, with their targets renumbered from 0."""
    mask = (data["student"] >= start) & (data["student"] < stop)
    return {
        "x": data["x"][start:stop],
        "student": data["student"][mask] - start,
        "kp": data["kp"][mask],
        "level": data["level"][mask],
        "y": data["y"][mask],
        "base": data["base"][mask],
    }
