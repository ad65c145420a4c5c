"""Distributed strategies on CPU/gloo with 2 processes: each must follow the one-process loss curve.

One torchrun launch trains every strategy in turn (start-up, ~20 s, is most of the cost), on the
core GPT and, for tensor parallelism, on transformers' GPT-2; it also resumes checkpoints at another
world size and checks the ``TensorParallel`` helper, and writes a JSON the tests below assert on.
One more launch runs two "nodes" on this machine through c10d rendezvous. The bad-input checks run
in this process.
"""

import json
import os
import socket
import subprocess
import sys

import pytest
from boya.errors import BoyaError

STRATEGIES = ("ddp", "fsdp", "tp", "pp", "fsdp+tp", "tp@hf-gpt2", "fsdp+tp@hf-gpt2")
ALL = ",".join(STRATEGIES)
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def _parity_command(out, *torchrun_args, strategies=ALL, extra=()):
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        *torchrun_args,
        "-m",
        "boya.runtime.distributed.parity",
        "--out",
        str(out),
        "--strategies",
        strategies,
        *extra,
    ]


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    out = tmp_path_factory.mktemp("parity")
    done = subprocess.run(
        _parity_command(
            out,
            "--nproc-per-node",
            "2",
            "--master-port",
            str(_free_port()),
            extra=("--resume-check", "--tp-helper-check"),
        ),
        env=ENV,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((out / "parity.json").read_text())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.distributed
@pytest.mark.slow
@pytest.mark.parametrize("name", STRATEGIES)
# the exported full model.safetensors equals the one-process weights
def test_loss_curve_equals_one_process(parity, name):
    run = parity["strategies"][name]
    assert "error" not in run, run.get("error")
    assert len(run["losses"]) == parity["steps"] == 3
    assert run["loss_max_diff"] <= 1e-5
    assert run["weight_max_diff"] <= 1e-4


@pytest.mark.distributed
@pytest.mark.slow
@pytest.mark.parametrize("name", ("fsdp", "tp", "pp", "fsdp+tp", "tp@hf-gpt2", "fsdp+tp@hf-gpt2"))
def test_sharded_checkpoint_resumes_the_same_run(parity, name):
    run = parity["strategies"][name]
    assert run["resumed_losses"] == pytest.approx(run["losses"], abs=1e-7)


@pytest.mark.distributed
@pytest.mark.slow
@pytest.mark.parametrize("name", ("fsdp", "tp"))
def test_checkpoint_resumes_at_another_world_size(parity, name):
    """2 -> 1: the 2-process checkpoint continued by one process; 1 -> 2: a one-process checkpoint continued by 2."""
    run, single = parity["strategies"][name], parity["single"]["losses"]
    assert run["resumed_on_one_losses"] == pytest.approx(run["losses"], abs=1e-6)
    assert run["resumed_on_one_losses"] == pytest.approx(single, abs=1e-6)
    assert run["resumed_from_one_losses"] == pytest.approx(single, abs=1e-6)


@pytest.mark.distributed
@pytest.mark.slow
@pytest.mark.parametrize("name", ("tp@hf-gpt2", "fsdp+tp@hf-gpt2"))
def test_gpt2_export_loads_into_a_plain_gpt2(parity, name):
    """The exported TP-trained GPT-2 loads with ``GPT2LMHeadModel.from_pretrained`` (HF names, Conv1D layout)."""
    reload = parity["strategies"][name]["hf_reload"]
    assert reload["loading_problems"] == []
    assert reload["logits_max_diff"] <= 1e-4


@pytest.mark.distributed
@pytest.mark.slow
def test_gpt2_tp_checkpoint_on_one_process_is_refused_with_advice(parity):
    message = parity["strategies"]["tp@hf-gpt2"]["resume_on_one_error"]
    assert "does not match this model" in message and "--strategy tp on 2 processes" in message
    assert "\n" not in message


@pytest.mark.distributed
@pytest.mark.slow
def test_tensor_parallel_helper_matches_the_unsplit_mlp(parity):
    """A user's 2-layer MLP split colwise/rowwise by ``TensorParallel``, and a hand-written row-parallel layer
    summed with ``tp.all_reduce``: same output and gradients as one process."""
    figures = parity["tp_helper"]
    assert figures["output_max_diff"] <= 1e-5 and figures["grad_max_diff"] <= 1e-5
    assert figures["all_reduce_output_max_diff"] <= 1e-5 and figures["all_reduce_grad_max_diff"] <= 1e-5


@pytest.mark.distributed
@pytest.mark.slow
def test_two_nodes_on_localhost_via_c10d_rendezvous(tmp_path):
    endpoint = f"127.0.0.1:{_free_port()}"
    args = (
        "--nnodes",
        "2",
        "--nproc-per-node",
        "1",
        "--rdzv-backend",
        "c10d",
        "--rdzv-endpoint",
        endpoint,
        "--rdzv-id",
        "boya-test",
    )
    nodes = [
        subprocess.Popen(
            _parity_command(tmp_path, *args, strategies="ddp", extra=("--steps", "2")),
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [node.communicate(timeout=600) for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs[0][1][-2000:] + outputs[1][1][-2000:]
    result = json.loads((tmp_path / "parity.json").read_text())
    assert result["processes"] == 2
    assert result["strategies"]["ddp"]["loss_max_diff"] <= 1e-5


def test_distributed_strategy_without_torchrun_says_what_to_run(tmp_path):
    env = {key: value for key, value in ENV.items() if key not in ("RANK", "WORLD_SIZE")}
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from boya.cli import main; main()",
            "train",
            "text-lm",
            "--strategy",
            "ddp",
            "--max-steps",
            "1",
            "--out",
            str(tmp_path / "run"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
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


def test_pipeline_checkpoint_elsewhere_is_refused_with_advice(tmp_path):
    import json as json_module

    import torch
    from boya.runtime.distributed import sharded_checkpoint

    (tmp_path / ".metadata").write_bytes(b"")
    (tmp_path / "meta.json").write_text(json_module.dumps({"strategy": "pp", "processes": 2}))
    model = torch.nn.Linear(2, 2)
    with pytest.raises(
        BoyaError,
        match="holds 2 pipeline stages: resume it with --strategy pp under torchrun --nproc-per-node 2",
    ):
        sharded_checkpoint.load(tmp_path, model, torch.optim.AdamW(model.parameters()), env=None)


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
