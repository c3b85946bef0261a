"""Secrets (SASL password, key password, webhook URL): read only from the environment or from
a secret file, held in a type that never prints its value.

A secret ``BUZZWATCH_X`` comes from ``$BUZZWATCH_X`` or from the file named by
``$BUZZWATCH_X_FILE`` (what Docker/Kubernetes secrets mount, e.g. ``/run/secrets/x``), never
from the TOML file: config files get committed, copied into images and pasted into tickets.
Setting both is an error (which one would win is a surprise either way).

>>> s = read_secret({"BUZZWATCH_TOKEN": "s3cr3t"}, "BUZZWATCH_TOKEN")
>>> s, f"{s}", s.get_secret_value()
(SecretStr('**********'), "SecretStr('**********')", 's3cr3t')
>>> read_secret({}, "BUZZWATCH_TOKEN") is None
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from buzzwatch.config import ConfigError


class SecretStr:
    """A string that does not print itself: ``repr``, ``str`` and f-strings show stars, so a
    settings object, a log line or a traceback never carries the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def for_library(self) -> RedactedStr:
        """The value as a ``str`` for a client library, still masked when the library logs it."""
        return RedactedStr(self._value)

    def __repr__(self) -> str:
        return "SecretStr('**********')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SecretStr) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self):  # pickling would be a way out of the mask: refuse it
        raise TypeError("a SecretStr is not pickled")


class RedactedStr(str):
    """A real ``str`` (what client libraries need to hash or send) whose ``repr`` is stars.

    For handing a secret to a library that logs its configuration: kafka-python's admin client
    logs its whole config dict at DEBUG, and a dict prints its values with ``repr``.

    >>> password = RedactedStr("s3cr3t")
    >>> password == "s3cr3t", password.encode(), {"sasl_plain_password": password}
    (True, b's3cr3t', {'sasl_plain_password': '**********'})
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "'**********'"


def read_secret(env: Mapping[str, str], name: str) -> SecretStr | None:
    """``$name`` or the content of the file ``$name_FILE`` (one trailing newline stripped, as
    ``echo x > file`` adds one); None when neither is set or the value is empty. Errors name
    the variable and the file, never the value."""
    direct = env.get(name) or None
    file_var = f"{name}_FILE"
    path = env.get(file_var) or None
    if direct is not None and path is not None:
        raise ConfigError(f"${name} and ${file_var} are both set: keep one")
    if path is not None:
        try:
            value = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"${file_var}: cannot read the secret file {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"${file_var}: the secret file {path} is not UTF-8 text") from None
        value = value[:-1] if value.endswith("\n") else value
        value = value[:-1] if value.endswith("\r") else value
        if not value:
            raise ConfigError(f"${file_var}: the secret file {path} is empty")
        return SecretStr(value)
    return SecretStr(direct) if direct is not None else None
