"""The knowledge graph: every CCSSM standard as a node, prerequisite edges from the shipped ccssm data.

All 471 standards are shown; the servable ones (those with a generator) also carry English and Chinese titles.
Ready-to-learn sets and learning paths are computed on the servable graph: servable standards linked whenever the
full curriculum graph leads from one to the other, reduced to its direct links.
"""

import json
from functools import cache
from importlib import resources

import networkx as nx
from boya.errors import BoyaError

from .generators import all_specs

_LEVELS = {"K": 0, "HS": 9}


def _code(standard: dict) -> str:
    parts = [
        standard.get("category_code"),
        standard["domain_code"],
        standard["cluster_code"],
        standard["standard_counter"],
        standard["substandard_counter"],
    ]
    prefix = "HS" if standard["grade_level_code"] == "HS" else standard["grade_level_code"] + "."
    return prefix + ".".join(part for part in parts if part)


def _read(name: str) -> dict:
    return json.loads(
        resources.files("boya_exercises").joinpath("data", "ccssm", name).read_text(encoding="utf-8")
    )


@cache
def load_graph() -> nx.DiGraph:
    """The curriculum graph (cached; treat as read-only): edge u → v means u is a prerequisite of v."""
    graph = nx.DiGraph()
    specs = all_specs()
    for name in ("ccssm-k8.json", "ccssm-hs.json"):
        for standard in _read(name)["standards"]:
            code = _code(standard)
            spec = specs.get(code)
            grade = standard["grade_level_code"]
            description = standard["description"]
            graph.add_node(
                code,
                level=_LEVELS.get(grade, int(grade) if grade.isdigit() else 0),
                domain=standard["domain_code"],
                description=description,
                title=spec.title_en if spec else _short(description),
                title_zh=spec.title_zh if spec else None,
                family=spec.family if spec else None,
                servable=spec is not None,
            )
    connections = []
    for edge in _read("ccssm-dependencies.json")["dependencies"]:
        if edge["source"] not in graph or edge["target"] not in graph:
            continue
        if edge["relationship"] == "dependency":
            graph.add_edge(edge["source"], edge["target"])
        else:
            connections.append((edge["source"], edge["target"]))
    graph.graph["connections"] = connections
    missing = set(specs) - set(graph)
    if missing:
        raise RuntimeError(f"generators for codes absent from the curriculum: {sorted(missing)}")
    return graph


def _short(description: str, limit: int = 80) -> str:
    sentence = description.split(". ")[0].rstrip(".")
    return sentence if len(sentence) <= limit else sentence[: limit - 1].rstrip() + "…"


@cache
def servable_graph() -> nx.DiGraph:
    """Servable standards only; u → v when the curriculum leads from u to v (transitively reduced)."""
    graph = load_graph()
    servable = [node for node, data in graph.nodes(data=True) if data["servable"]]
    closure = nx.DiGraph()
    closure.add_nodes_from(servable)
    for node in servable:
        for later in nx.descendants(graph, node):
            if graph.nodes[later]["servable"]:
                closure.add_edge(node, later)
    reduced = nx.transitive_reduction(closure)
    reduced.add_nodes_from(closure.nodes(data=True))
    for node in reduced:
        reduced.nodes[node].update(graph.nodes[node])
    return reduced


def check_kp(kp: str) -> None:
    if kp not in load_graph():
        raise BoyaError(f"unknown knowledge point {kp!r}; see `boya exercises kg` for the codes")


def ready_to_learn(mastered) -> list[str]:
    """The outer fringe: servable standards not yet mastered whose servable prerequisites all are."""
    graph, mastered = servable_graph(), set(mastered)
    return sorted(
        (kp for kp in graph if kp not in mastered and set(graph.predecessors(kp)) <= mastered), key=sort_key
    )


def learning_path(target: str, mastered=()) -> list[str]:
    """The servable standards still to learn before (and including) ``target``, in a valid order."""
    check_kp(target)
    graph = servable_graph()
    if target not in graph:
        raise BoyaError(f"knowledge point {target!r} has no exercise generator yet")
    needed = (nx.ancestors(graph, target) | {target}) - set(mastered)
    return list(nx.lexicographical_topological_sort(graph.subgraph(needed), key=sort_key))


def sort_key(kp: str):
    node = load_graph().nodes[kp]
    return (node["level"], kp)


def kg_json() -> dict:
    """The graph as the tutor protocol's ``kg`` answer: nodes with id, title, level, servable; prerequisite edges."""
    graph = load_graph()
    nodes = [
        {
            "id": kp,
            "title": data["title"],
            "title_zh": data["title_zh"],
            "level": data["level"],
            "servable": data["servable"],
        }
        for kp, data in sorted(graph.nodes(data=True), key=lambda item: sort_key(item[0]))
    ]
    return {"nodes": nodes, "edges": [[u, v] for u, v in graph.edges()]}
