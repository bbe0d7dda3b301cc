"""The read contracts as FastAPI documents them: every 2xx response's schema comes from the TypedDict its producer returns.

The handlers still answer with ``JsonResponse`` (orjson): a route's ``response_model`` only documents
the body, FastAPI neither validates nor serialises it again (``tests/http/test_openapi.py`` checks
that real bodies match the schemas).

On Python 3.11 pydantic documents only ``typing_extensions.TypedDict``; the domain's records
(``domain.taxonomy``, ``domain.reportability``, ``domain.severity``) use the standard library's,
as the domain imports nothing else. ``documented`` rebuilds those (and any TypedDict holding one)
field for field, so each contract is written once, where it is produced, and mypy checks it there.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Literal, NotRequired, Required, Union, get_args, get_origin

import typing_extensions
from typing_extensions import is_typeddict

_rebuilt: dict[Any, Any] = {}


def documented(annotation: Any) -> Any:
    """``annotation`` as pydantic can document it: standard-library TypedDicts in it rebuilt with typing_extensions."""
    if is_typeddict(annotation):
        if annotation not in _rebuilt:
            _rebuilt[annotation] = _typed_dict(annotation)
        return _rebuilt[annotation]
    origin, arguments = get_origin(annotation), get_args(annotation)
    if not arguments or origin is Literal:
        return annotation
    rebuilt = tuple(documented(argument) if i == 0 or origin is not Annotated else argument
                    for i, argument in enumerate(arguments))
    if rebuilt == arguments:
        return annotation
    if origin in (Union, types.UnionType):
        return Union[rebuilt]  # noqa: UP007 (a union built from a tuple)
    return origin[rebuilt if len(rebuilt) > 1 else rebuilt[0]]


def _typed_dict(cls: Any) -> Any:
    hints = typing_extensions.get_type_hints(cls, include_extras=True)
    fields = {name: documented(_bare(hint)) for name, hint in hints.items()}
    if type(cls).__module__ != "typing" and all(fields[name] == _bare(hint) for name, hint in hints.items()):
        return cls  # pydantic reads it as it is
    marked = {name: (Required if name in cls.__required_keys__ else NotRequired)[field] for name, field in fields.items()}
    rebuilt: Any = typing_extensions.TypedDict(cls.__name__, marked)  # type: ignore[misc]
    rebuilt.__doc__, rebuilt.__module__, rebuilt.__qualname__ = cls.__doc__, cls.__module__, cls.__qualname__
    return rebuilt


def _bare(hint: Any) -> Any:
    """The type inside ``Required[...]`` / ``NotRequired[...]`` (``__required_keys__`` says which)."""
    if get_origin(hint) in (Required, NotRequired):
        return get_args(hint)[0]
    return hint
