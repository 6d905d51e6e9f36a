"""The base of every dr.yml model: frozen, unknown keys refused, and a number only where one
is written (pydantic's lax mode would take `true` as 1, "6" as 6, 6.0 as a whole 6)."""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator


def _number_kinds(annotation: Any) -> set[type]:
    """Return {int}, {float} or both when a field holds only numbers (or None), else {}."""
    if get_origin(annotation) is Annotated:
        return _number_kinds(get_args(annotation)[0])
    kinds = (
        set(get_args(annotation)) if get_origin(annotation) in (Union, UnionType) else {annotation}
    )
    kinds.discard(type(None))
    return kinds if kinds and kinds <= {int, float} else set()


_KINDS: dict[tuple[type, str], set[type]] = {}


class ConfigModel(BaseModel):
    """A dr.yml model: frozen, unknown keys refused, numbers only as numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_as_written(cls, value: Any, info: ValidationInfo) -> Any:
        """A number in dr.yml is written as one: pydantic's lax mode would take `true` as 1,
        "6" as 6 and 6.0 as a whole 6 (a cut-off hour `true` read as 1 o'clock)."""
        key = (cls, str(info.field_name))
        kinds = _KINDS.get(key)
        if kinds is None:  # once per model field: this runs for every value of every dr.yml
            kinds = _KINDS[key] = _number_kinds(cls.model_fields[key[1]].annotation)
        if not kinds or value is None:
            return value
        whole = float not in kinds
        if isinstance(value, bool | str) or (whole and isinstance(value, float)):
            what = "a whole number" if whole else "a number"
            raise ValueError(f"expected {what}, got {value!r}")
        return value
