"""Distributed strategies on CPU/gloo with 2 processes: each must follow the one-process loss curve.

One torchrun launch trains every strategy in turn (start-up, ~20 s, is most of the cost) and
writes a JSON the tests below assert on; one more launch runs two "nodes" on this machine
through c10d rendezvous. The bad-input checks run in this process.
"""

import json
import os
import socket
import subprocess
import sys

import pytest
from boya.errors import BoyaError

STRATEGIES = ("ddp", "fsdp", "tp", "pp", "fsdp+tp")
ALL = ",".join(STRATEGIES)
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def _parity_command(out, *torchrun_args, strategies=ALL, extra=()):
    return [sys.executable, "-m", "torch.distributed.run", *torchrun_args, "-m", "boya.runtime.distributed.parity",
            "--out", str(out), "--strategies", strategies, *extra]


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    out = tmp_path_factory.mktemp("parity")
    done = subprocess.run(_parity_command(out, "--nproc-per-node", "2", "--master-port", str(_free_port()),
                                          extra=("--resume-check",)),
                          env=ENV, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "parity.json").read_text())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.distributed
@pytest.mark.slow
@pytest.mark.parametrize("name", STRATEGIES)
def test_loss_curve_equals_one_process(parity, name):
    run = parity["strategies"][name]
    assert "error" not in run, run.get("error")
    assert len(run["losses"]) == parity["steps"] == 3
    assert run["loss_max_diff"] <= 1e-5
    assert run["weight_max_diff"] <= 1e-4  # the exported full model.safetensors equals the one-process weights


@pytest.mark.distributed
@pytest.mark.slow
@pytest.mark.parametrize("name", ("fsdp", "tp", "pp", "fsdp+tp"))
def test_sharded_checkpoint_resumes_the_same_run(parity, name):
    run = parity["strategies"][name]
    assert run["resumed_losses"] == pytest.approx(run["losses"], abs=1e-7)


@pytest.mark.distributed
@pytest.mark.slow
def test_two_nodes_on_localhost_via_c10d_rendezvous(tmp_path):
    endpoint = f"127.0.0.1:{_free_port()}"
    args = ("--nnodes", "2", "--nproc-per-node", "1", "--rdzv-backend", "c10d", "--rdzv-endpoint", endpoint,
            "--rdzv-id", "boya-test")
    nodes = [subprocess.Popen(_parity_command(tmp_path, *args, strategies="ddp", extra=("--steps", "2")),
                              env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [node.communicate(timeout=600) for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs[0][1][-2000:] + outputs[1][1][-2000:]
    result = json.loads((tmp_path / "parity.json").read_text())
    assert result["processes"] == 2
    assert result["strategies"]["ddp"]["loss_max_diff"] <= 1e-5


def test_distributed_strategy_without_torchrun_says_what_to_run(tmp_path):
    env = {key: value for key, value in ENV.items() if key not in ("RANK", "WORLD_SIZE")}
    done = subprocess.run([sys.executable, "-c", "from boya.cli import main; main()", "train", "text-lm",
                           "--strategy", "ddp", "--max-steps", "1", "--out", str(tmp_path / "run")],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "torchrun --nproc-per-node 2" in done.stderr and "--strategy ddp" in done.stderr
    assert not (tmp_path / "run").exists()


def test_world_size_not_divisible_by_tp_degree():
    import torch
    from boya.runtime.config import TrainConfig
    from boya.runtime.distributed.launch import DistEnv
    from boya.runtime.distributed.tp import TPStrategy

    env = DistEnv(rank=0, world_size=3, local_rank=0, device=torch.device("cpu"), backend="gloo")
    with pytest.raises(BoyaError, match="not divisible by the TP degree 2"):
        TPStrategy(env, TrainConfig(strategy="fsdp+tp", tp_size=2))


def test_model_without_tp_plan_is_refused():
    from boya.runtime.distributed.tp import plan_for
    from torch import nn

    with pytest.raises(BoyaError, match="no tensor-parallel plan for torch.nn.modules.linear.Linear"):
        plan_for(nn.Linear(2, 2))


def test_pipeline_split_is_checked():
    from boya.runtime.distributed.pp import stage_boundaries

    assert stage_boundaries(4, 2, None) == [range(0, 2), range(2, 4)]
    assert stage_boundaries(4, 2, (3,)) == [range(0, 3), range(3, 4)]
    with pytest.raises(BoyaError, match="too few for 3 pipeline stages"):
        stage_boundaries(2, 3, None)
    with pytest.raises(BoyaError, match="increasing block indices"):
        stage_boundaries(4, 2, (4,))


def test_unknown_strategy_is_refused():
    from boya.runtime.config import TrainConfig

    with pytest.raises(BoyaError, match="unknown strategy 'zero3'"):
        TrainConfig(strategy="zero3")
