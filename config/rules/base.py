"""What every rule shares: a problem is ``(key path, message)``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from config.schema import StackConfig

Problem = tuple[str, str]
Rule = Callable[[StackConfig], Iterator[Problem]]


def repeated(key: str, what: str, values: Iterable[str]) -> Iterator[Problem]:
    """One problem per value that occurs more than once, naming the entries that repeat it:
    each entry becomes a resource named after the value, and two would collide."""
    listed = list(values)
    for value, count in Counter(listed).items():
        if count > 1:
            where = ", ".join(f"{key}[{i}]" for i, v in enumerate(listed) if v == value)
            yield key, f"{what} {value!r} is used {count} times: {where}"


def camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)
