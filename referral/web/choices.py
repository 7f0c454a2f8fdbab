"""WTForms' SelectChoice with types: the types-WTForms stubs predate it (WTForms 3.3), so the
type checker gets its signature from here while the code uses WTForms' own class. For the
checker it is one of the (value, label) pairs the stubs' `choices` take, which WTForms treats
alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:

    class SelectChoice(tuple[Any, str]):
        value: Any
        label: str
        render_kw: dict[str, Any]
        optgroup: str | None

        def __new__(
            cls,
            value: Any,
            label: str | None = None,
            render_kw: dict[str, Any] | None = None,
            optgroup: str | None = None,
        ) -> SelectChoice: ...

else:
    from wtforms import SelectChoice


def choices_from(labels: Mapping[str, Any]) -> list[SelectChoice]:
    """A select's choices from value -> label; lazy labels stay lazy, so each renders in the
    user's language."""
    return [SelectChoice(value, label) for value, label in labels.items()]


__all__ = ["SelectChoice", "choices_from"]
