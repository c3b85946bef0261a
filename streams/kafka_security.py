"""How Buzzwatch's Kafka clients authenticate and encrypt: one validated value, three dialects.

The worker (Faust over aiokafka), the CLI producers, consumers and admin clients (kafka-python)
all talk to the same cluster with the same credentials, so the settings are read once
(``streams.settings``, ``[kafka]`` + ``BUZZWATCH_KAFKA_*``) into a :class:`KafkaSecurity` and
turned into each library's keyword arguments here, nowhere else:

* :meth:`KafkaSecurity.kafka_python_kwargs` for ``KafkaProducer`` / ``KafkaConsumer`` /
  ``KafkaAdminClient``;
* :meth:`KafkaSecurity.aiokafka_kwargs` for aiokafka;
* :meth:`KafkaSecurity.faust_credentials` for ``faust.App(broker_credentials=...)``.

TLS is one ``ssl.SSLContext`` for every client (CA file or the system CAs, optional client
certificate and key for mutual TLS, hostname checked unless turned off), so the libraries'
diverging ``ssl_*`` options never matter. Validation is eager: a wrong protocol or mechanism,
SASL options without a SASL protocol, a missing password, an unreadable CA or a key that does
not match its certificate is a :class:`~buzzwatch.config.ConfigError` at start-up, with the key
named and never the secret's value.

>>> KafkaSecurity().kafka_python_kwargs()
{'security_protocol': 'PLAINTEXT'}
>>> sec = KafkaSecurity("SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512", sasl_username="bw",
...                     sasl_password=SecretStr("pw"))
>>> sec
KafkaSecurity(protocol='SASL_PLAINTEXT', sasl_mechanism='SCRAM-SHA-512', sasl_username='bw', sasl_password=SecretStr('**********'), ssl_cafile=None, ssl_certfile=None, ssl_keyfile=None, ssl_key_password=None, ssl_check_hostname=True)
>>> sec.describe()
"SASL_PLAINTEXT, SCRAM-SHA-512 as user 'bw'"
>>> KafkaSecurity("SASL_SSL")
Traceback (most recent call last):
...
buzzwatch.config.ConfigError: [kafka] security_protocol = "SASL_SSL" needs sasl_mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from buzzwatch.config import ConfigError
from streams.secret_values import SecretStr

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class KafkaSecurity:
    """Security settings shared by every Kafka client of a process (see the module docstring)."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None
    ssl_key_password: SecretStr | None = None
    ssl_check_hostname: bool = True

    def __post_init__(self) -> None:
        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"[kafka] security_protocol = {self.protocol!r}: expected one of {', '.join(PROTOCOLS)}")
        if self.uses_sasl:
            if self.sasl_mechanism is None:
                raise ConfigError(f'[kafka] security_protocol = "{self.protocol}" needs sasl_mechanism '
                                  f"({', '.join(MECHANISMS)})")
            if self.sasl_mechanism not in MECHANISMS:
                raise ConfigError(f"[kafka] sasl_mechanism = {self.sasl_mechanism!r}: expected one of {', '.join(MECHANISMS)}")
            if not self.sasl_username:
                raise ConfigError(f"[kafka] sasl_mechanism {self.sasl_mechanism} needs sasl_username "
                                  "(or $BUZZWATCH_KAFKA_SASL_USERNAME)")
            if self.sasl_password is None:
                raise ConfigError(f"[kafka] sasl_mechanism {self.sasl_mechanism} needs a password: set "
                                  "$BUZZWATCH_KAFKA_SASL_PASSWORD or $BUZZWATCH_KAFKA_SASL_PASSWORD_FILE")
        else:
            stray = [k for k in ("sasl_mechanism", "sasl_username", "sasl_password") if getattr(self, k) is not None]
            if stray:
                raise ConfigError(f'[kafka] {", ".join(stray)} set but security_protocol = "{self.protocol}" '
                                  "does not use SASL (SASL_SSL or SASL_PLAINTEXT does)")
        if not self.uses_ssl:
            stray = [k for k in ("ssl_cafile", "ssl_certfile", "ssl_keyfile", "ssl_key_password")
                     if getattr(self, k) is not None]
            if stray:
                raise ConfigError(f'[kafka] {", ".join(stray)} set but security_protocol = "{self.protocol}" '
                                  "does not use TLS (SSL or SASL_SSL does)")
            return
        if (self.ssl_certfile is None) != (self.ssl_keyfile is None):
            raise ConfigError("[kafka] ssl_certfile and ssl_keyfile go together (the client certificate and its key)")
        if self.ssl_key_password is not None and self.ssl_keyfile is None:
            raise ConfigError("[kafka] a key password is set but no ssl_keyfile")
        for key in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            path = getattr(self, key)
            if path is not None and not Path(path).is_file():
                raise ConfigError(f"[kafka] {key} = {str(path)!r}: no such file")
        self.ssl_context()  # parse the CA and the key pair now, not at the first connection

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def uses_ssl(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    def describe(self) -> str:
        """For messages: protocol, mechanism and user, never a secret."""
        parts = [self.protocol]
        if self.uses_sasl:
            parts.append(f"{self.sasl_mechanism} as user {self.sasl_username!r}")
        if self.ssl_certfile is not None:
            parts.append(f"client certificate {self.ssl_certfile}")
        return ", ".join(parts)

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context every client uses (None without TLS): the CA file or the system CAs,
        TLS 1.2 at least, the client certificate when configured."""
        if not self.uses_ssl:
            return None
        try:
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH,
                                             cafile=str(self.ssl_cafile) if self.ssl_cafile else None)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(f"[kafka] ssl_cafile = {str(self.ssl_cafile)!r}: not a PEM CA certificate ({_reason(exc)})") from None
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.check_hostname = self.ssl_check_hostname
        ctx.verify_mode = ssl.CERT_REQUIRED
        if self.ssl_certfile is not None:
            password = self.ssl_key_password.get_secret_value() if self.ssl_key_password else None  # to ssl only
            try:
                # a callable, so an encrypted key without a password fails instead of prompting on the tty
                ctx.load_cert_chain(str(self.ssl_certfile), str(self.ssl_keyfile), password=lambda: password or "")
            except (ssl.SSLError, OSError) as exc:
                raise ConfigError(f"[kafka] ssl_certfile = {str(self.ssl_certfile)!r}, ssl_keyfile = "
                                  f"{str(self.ssl_keyfile)!r}: cannot load the client certificate and key "
                                  f"({_reason(exc)}; wrong key password or a key of another certificate?)") from None
        return ctx

    def kafka_python_kwargs(self) -> dict:
        """Options for kafka-python's ``KafkaProducer``, ``KafkaConsumer`` and ``KafkaAdminClient``."""
        kw: dict = {"security_protocol": self.protocol}
        if self.uses_ssl:
            kw["ssl_context"] = self.ssl_context()
            kw["ssl_check_hostname"] = self.ssl_check_hostname
        if self.uses_sasl:
            kw.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.sasl_username,
                      sasl_plain_password=self.sasl_password.for_library())
        return kw

    def aiokafka_kwargs(self) -> dict:
        """Options for aiokafka's ``AIOKafkaProducer`` / ``AIOKafkaConsumer`` / admin client."""
        kw: dict = {"security_protocol": self.protocol}
        if self.uses_ssl:
            kw["ssl_context"] = self.ssl_context()
        if self.uses_sasl:
            kw.update(sasl_mechanism=self.sasl_mechanism, sasl_plain_username=self.sasl_username,
                      sasl_plain_password=self.sasl_password.for_library())
        return kw

    def faust_credentials(self):
        """``broker_credentials`` for ``faust.App`` (None for PLAINTEXT). Faust maps them to the
        same aiokafka options as :meth:`aiokafka_kwargs` (its ``credentials_to_aiokafka_auth``)."""
        if self.protocol == "PLAINTEXT":
            return None
        import faust

        if self.uses_sasl:
            return faust.SASLCredentials(username=self.sasl_username, password=self.sasl_password.for_library(),
                                         ssl_context=self.ssl_context(), mechanism=self.sasl_mechanism)
        return faust.SSLCredentials(self.ssl_context())


def _reason(exc: BaseException) -> str:
    """The library's reason for a TLS/file error, without echoing arguments."""
    if isinstance(exc, ssl.SSLError):
        return exc.reason or exc.strerror or type(exc).__name__
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return type(exc).__name__
