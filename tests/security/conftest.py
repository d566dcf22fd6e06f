"""Fixtures of the security suite: the inbox sweep set-up is the fault suite's."""

from tests.faults.conftest import sweep_env

__all__ = ["sweep_env"]
