"""Registers the tensor-parallel plan of the core's GPT (``--strategy tp`` / ``fsdp+tp``; see ``boya.runtime.distributed.tp``)."""

from ..hookspecs import hookimpl


def _matches(model) -> bool:
    from ..runtime.distributed.tp import is_core_gpt

    return is_core_gpt(model)


def _plan(model) -> dict:
    from ..runtime.distributed.tp import gpt_plan

    return gpt_plan(model)


@hookimpl
def register_tp_plans(register):
    register(_matches, _plan)
