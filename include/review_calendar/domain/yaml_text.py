"""YAML text of the configuration files (programmes, the holiday table, the reviewers' roster), parsed
with LibYAML when present.

Every command starts by reading a programme file (and the holiday table with
it); PyYAML's pure-Python parser takes about ten times as long as its LibYAML
binding. Both build the same values through the same safe constructor; a text
the binding refuses is parsed again by the pure parser, so that every error
message stays the one PyYAML has always given.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["load_yaml"]

_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def load_yaml(text: str) -> Any:
    """The value of a YAML document, as ``yaml.safe_load`` gives it.

    Raises:
        yaml.YAMLError: Not valid YAML (PyYAML's own message, line and column).
        ValueError: A value the safe constructor cannot build (``2031-13-01``).
    """
    if _FAST_LOADER is not None:
        try:
            return yaml.load(text, Loader=_FAST_LOADER)
        except (yaml.YAMLError, ValueError):
            pass
    return yaml.safe_load(text)
