"""``boya.runtime.distributed``: training over several processes with torch.distributed, launched by ``torchrun``.

The trainer never imports this package directly: ``boya.runtime.strategy.make_strategy`` hands
every strategy but ``single`` to :func:`make_distributed_strategy`. Each strategy answers the
trainer's questions (wrap the model, skip gradient sync, sum over ranks, clip, checkpoint) with
torch's own pieces, no home-made engine:

- ``ddp``: ``DistributedDataParallel``, ``no_sync`` on non-final micro-batches (:mod:`.ddp`);
- ``fsdp``: FSDP2 ``fully_shard`` per block and at the root, precision mapped to
  ``MixedPrecisionPolicy`` (:mod:`.fsdp`);
- ``tp``: DTensor plans registered per model family through the ``register_tp_plans`` hook (:mod:`.tp`;
  the core's GPT and transformers' ``GPT2LMHeadModel``, :mod:`.tp_hf_gpt2`);
- ``fsdp+tp``: a 2-D (dp, tp) mesh, TP inside a node-sized group and FSDP across (:mod:`.tp`);
- ``pp``: ``torch.distributed.pipelining`` stages and a GPipe or 1F1B schedule (:mod:`.pp`).

Batches: ``batch_size`` is the GLOBAL batch; each data-parallel rank takes its slice, so a run on
N processes follows the one-process loss curve (the tests check 1e-5). Checkpoints are sharded
with ``torch.distributed.checkpoint`` (:mod:`.sharded_checkpoint`) and can be resumed at another
world size, one process included; the final ``model.safetensors`` is the full, unsharded state dict.

Launch: ``torchrun --nproc-per-node 2 $(command -v boya) train text-lm --strategy fsdp``; several
machines: ``--nnodes 2 --rdzv-backend c10d --rdzv-endpoint HOST:29400`` (see :mod:`.launch`).
"""

STRATEGY_NAMES = ("ddp", "fsdp", "tp", "pp", "fsdp+tp")


def make_distributed_strategy(config):
    """The strategy object for ``config.strategy``; starts the process group from torchrun's environment."""
    from .launch import init_from_torchrun

    env = init_from_torchrun(config.strategy, config.device)
    if config.strategy == "ddp":
        from .ddp import DDPStrategy

        return DDPStrategy(env, config)
    if config.strategy == "fsdp":
        from .fsdp import FSDPStrategy

        return FSDPStrategy(env, config)
    if config.strategy in ("tp", "fsdp+tp"):
        from .tp import TPStrategy

        return TPStrategy(env, config)
    from .pp import PipelineStrategy

    return PipelineStrategy(env, config)
