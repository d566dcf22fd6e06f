"""Importing Great Expectations without the libraries only its distribution expectations use.

``import great_expectations`` registers every expectation it ships, and two of
them pull in heavy libraries at import time: the KL-divergence expectation
imports scipy.stats and the charting library altair, the Kolmogorov-Smirnov
metrics scipy.stats. Together that is more than a third of the import (over a
second on the benchmark machine). The provincial suites use neither.

:func:`import_great_expectations` therefore puts a stand-in for each of them
into ``sys.modules`` before importing Great Expectations. A stand-in is a
module whose first attribute read (``stats.entropy``, ``alt.Chart``) imports
the real library and answers from it, so an expectation that needs one still
works, only later; nothing else changes. A library already imported (or not
installed) is left as it is.

The standard library's :class:`importlib.util.LazyLoader` does not do here: on
Python 3.11 the next ``import`` statement naming a lazy module reads its
``__spec__`` (to see whether it is still initialising), which executes it at
once, and Great Expectations' own modules import both libraries by name. A
stand-in whose ``__spec__`` is its own attribute is not executed by that read.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

__all__ = ["DEFERRED", "import_great_expectations"]

#: Libraries Great Expectations imports but only distribution expectations use.
DEFERRED = ("scipy.stats", "altair")


class _Deferred(types.ModuleType):
    """Stands in for a library in ``sys.modules`` until an attribute of it is read."""

    def __init__(self, name: str, spec: ModuleSpec) -> None:
        super().__init__(name)
        self.__spec__ = spec

    def __getattr__(self, attr: str) -> Any:
        return getattr(_real(self.__name__), attr)

    def __dir__(self) -> list[str]:
        return dir(_real(self.__name__))


def _real(name: str) -> types.ModuleType:
    """The library ``name`` itself, imported now if only its stand-in is there."""
    module = sys.modules.get(name)
    if isinstance(module, _Deferred):
        del sys.modules[name]
        module = None
    return module if module is not None else importlib.import_module(name)


def import_great_expectations() -> types.ModuleType:
    """``great_expectations``, imported with :data:`DEFERRED` standing in until they are used."""
    if "great_expectations" not in sys.modules:
        for name in DEFERRED:
            if name in sys.modules:
                continue
            spec = importlib.util.find_spec(name)
            if spec is not None:
                sys.modules[name] = _Deferred(name, spec)
    import great_expectations

    return great_expectations
