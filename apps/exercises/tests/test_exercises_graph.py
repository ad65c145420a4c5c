"""The knowledge graph built from the shipped CCSSM data."""

from importlib import resources

import networkx as nx
import pytest
from boya.errors import BoyaError
from boya_exercises.graph import kg_json, learning_path, load_graph, ready_to_learn, servable_graph


def test_graph_holds_every_standard_and_prerequisite_edge():
    graph = load_graph()
    assert graph.number_of_nodes() == 471 and graph.number_of_edges() == 729
    assert nx.is_directed_acyclic_graph(graph)
    assert graph.has_edge("6.EE.A.2", "HSA.SSE.A.1")
    assert len(graph.graph["connections"]) == 144


def test_license_and_notice_ship_with_the_data():
    folder = resources.files("boya_exercises").joinpath("data", "ccssm")
    assert "MIT License" in folder.joinpath("LICENSE").read_text()
    assert "Apache License" in folder.joinpath("NOTICE").read_text()


def test_ready_to_learn_moves_with_mastery():
    start = ready_to_learn(set())
    assert "1.OA.C.6" in start and "2.NBT.B.5" not in start
    after = ready_to_learn({"1.OA.C.6"})
    assert "2.NBT.B.5" in after and "1.OA.C.6" not in after


def test_learning_path_is_topological_and_skips_mastered():
    path = learning_path("HSA.REI.B.4.b")
    assert path[-1] == "HSA.REI.B.4.b" and "1.OA.C.6" in path and "8.EE.A.2" in path
    graph = servable_graph()
    assert all(path.index(u) < path.index(v) for u, v in graph.subgraph(path).edges())
    assert "1.OA.C.6" not in learning_path("HSA.REI.B.4.b", mastered={"1.OA.C.6"})
    with pytest.raises(BoyaError):
        learning_path("K.CC.A.1")
    with pytest.raises(BoyaError):
        learning_path("nope")


def test_kg_json_shape():
    data = kg_json()
    node = next(n for n in data["nodes"] if n["id"] == "6.EE.A.3")
    assert node["servable"] and node["title_zh"] and node["level"] == 6
    assert sum(n["servable"] for n in data["nodes"]) >= 30
    assert ["K.CC.A.1", "1.NBT.A.1"] in data["edges"] and ["K.CC.A.1", "K.CC.A.2"] not in data["edges"]
