"""Registers the tensor-parallel plans of the core's GPT and of transformers' GPT-2 (``--strategy tp`` / ``fsdp+tp``;
see ``boya.runtime.distributed.tp`` and ``boya.runtime.distributed.tp_hf_gpt2``)."""

from ..hookspecs import hookimpl


def _matches_core_gpt(model) -> bool:
    from ..runtime.distributed.tp import is_core_gpt

    return is_core_gpt(model)


def _core_gpt_plan(model) -> dict:
    from ..runtime.distributed.tp import gpt_plan

    return gpt_plan(model)


def _matches_hf_gpt2(model) -> bool:
    from ..runtime.distributed.tp_hf_gpt2 import is_hf_gpt2

    return is_hf_gpt2(model)


def _hf_gpt2_plan(model) -> dict:
    from ..runtime.distributed.tp_hf_gpt2 import hf_gpt2_plan

    return hf_gpt2_plan(model)


def _hf_gpt2_export(tensors: dict) -> dict:
    from ..runtime.distributed.tp_hf_gpt2 import hf_layout

    return hf_layout(tensors)


@hookimpl
def register_tp_plans(register):
    register(_matches_core_gpt, _core_gpt_plan)
    register(_matches_hf_gpt2, _hf_gpt2_plan, export=_hf_gpt2_export)
