"""Settings from the environment, and one readable line when one of them is missing or unusable.

Every service loads its pydantic-settings class through `load_settings` and runs its `main` under
`exit_on_config_error`: a bad setting then ends the process with one line that names the variable and where to
set it, and with `EXIT_CONFIG`, which the `just local` supervisor reads as "do not restart: nothing changes
until the user edits a setting".
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from pydantic import AliasChoices, ValidationError
from pydantic_settings import BaseSettings

EXIT_CONFIG = 78  # sysexits.h EX_CONFIG: a configuration error; restarting will not help
WHERE = "set it in .env (template: .env.example) or the environment"

S = TypeVar("S", bound=BaseSettings)


class ConfigError(Exception):
    """A setting that is missing or unusable: `variable` is the environment variable a user edits."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable} {problem}")
        self.variable = variable
        self.problem = problem

    def line(self, prog: str) -> str:
        return f"{prog}: configuration error: {self.variable} {self.problem}; {WHERE}"


def env_name(cls: type[BaseSettings], loc: tuple[str | int, ...]) -> str:
    """The environment variable behind a validation error's location (alias, else prefix + name, nested
    parts joined with the class's nested delimiter)."""
    if not loc:
        return cls.model_config.get("env_prefix", "").upper().rstrip("_") or cls.__name__
    head, *rest = (str(part) for part in loc)
    field = cls.model_fields.get(head)
    alias = field.validation_alias if field else None
    if field is None:  # pydantic reports an aliased field by its alias: that is the variable
        name = head
    elif isinstance(alias, str):
        name = alias
    elif isinstance(alias, AliasChoices) and isinstance(alias.choices[0], str):
        name = alias.choices[0]
    else:
        name = f"{cls.model_config.get('env_prefix', '')}{head}"
    delimiter = cls.model_config.get("env_nested_delimiter") or "__"
    return delimiter.join([name, *rest]).upper()


def config_error_from(cls: type[BaseSettings], exc: ValidationError) -> ConfigError:
    first = exc.errors(include_url=False)[0]
    value = first.get("input")
    shown = "" if isinstance(value, dict) or first["type"] == "missing" else f" (got {value!r})"
    return ConfigError(env_name(cls, tuple(first["loc"])), f"is not usable: {first['msg']}{shown}")


def load_settings(cls: type[S], **overrides: Any) -> S:
    """`cls(**overrides)`, with a validation error turned into a `ConfigError` naming the variable."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        raise config_error_from(cls, exc) from None


@contextmanager
def exit_on_config_error(prog: str) -> Iterator[None]:
    """Turn a `ConfigError` raised inside into one line on stderr and `SystemExit(EXIT_CONFIG)`."""
    try:
        yield
    except ConfigError as exc:
        print(exc.line(prog), file=sys.stderr, flush=True)
        raise SystemExit(EXIT_CONFIG) from None


def run_main(prog: str, main: Callable[[], int | None]) -> None:
    """`sys.exit(main())` with configuration errors reported as one line (see `exit_on_config_error`)."""
    with exit_on_config_error(prog):
        code = main()
    sys.exit(code or 0)
