"""What every rule shares: a problem is ``(key path, message)``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from config.schema import StackConfig

Problem = tuple[str, str]
Rule = Callable[[StackConfig], Iterator[Problem]]


def repeated(key: str, what: str, values: Iterable[str]) -> Iterator[Problem]:
    """One problem per value that occurs more than once."""
    for value, count in Counter(values).items():
        if count > 1:
            yield key, f"{what} {value!r} is used {count} times"


def camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)
