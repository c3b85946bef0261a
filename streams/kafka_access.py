"""Check, before any real work, that this process can reach and authenticate to Kafka; say why
not in one sentence.

Why a separate check: with wrong credentials the clients do not say so. kafka-python retries
its bootstrap until ``bootstrap_timeout_ms`` and ends with "Unable to bootstrap from ..." (30 s
for a producer or consumer, whatever the cause), and a Faust worker keeps reconnecting. One
direct connection with aiokafka's ``create_conn`` (TCP, TLS handshake, ApiVersions, SASL
handshake and authentication, within ``timeout_s``) surfaces the real reason at once: the CA
does not match, the broker refused our certificate, the password is wrong, the mechanism is
not enabled, or the listener speaks another protocol. Every CLI command runs it first (the
worker included), so a misconfiguration is a clear exit, never a hang.

Messages name the address, the protocol, the mechanism and the user, and the setting to fix;
never a password.
"""

from __future__ import annotations

from buzzwatch.errors import BuzzwatchError

import asyncio
import ssl

from streams.kafka_security import KafkaSecurity

DEFAULT_TIMEOUT_S = 10.0


class KafkaAccessError(BuzzwatchError, RuntimeError):
    """The broker cannot be reached, or refuses this client's TLS or SASL credentials.

    ``transient``: no server answered at all (refused, reset, timed out), which a broker that
    is down or restarting explains; a starting worker waits for that (``streams.broker_wait``),
    never for a refusal of its credentials."""

    def __init__(self, message: str, *, transient: bool = False):
        super().__init__(message)
        self.transient = transient


def _hosts(bootstrap: str) -> list[tuple[str, int]]:
    """``"a:9092,b:9093"`` -> ``[("a", 9092), ("b", 9093)]`` (an IPv6 address in brackets works).

    >>> _hosts("127.0.0.1:9092, [::1]:9093")
    [('127.0.0.1', 9092), ('::1', 9093)]
    """
    out = []
    for part in bootstrap.split(","):
        part = part.strip().removeprefix("kafka://")
        if not part:
            continue
        host, sep, port = part.rpartition(":")
        if not sep or not port.isdigit():
            raise KafkaAccessError(f"bootstrap server {part!r} is not host:port")
        out.append((host.strip("[]"), int(port)))
    if not out:
        raise KafkaAccessError("no bootstrap server given")
    return out


def explain(exc: BaseException, address: str, security: KafkaSecurity, timeout_s: float) -> str:
    """One sentence on why ``exc`` happened while connecting to ``address``, with what to check."""
    from aiokafka.errors import KafkaConnectionError, SaslAuthenticationFailed, UnsupportedSaslMechanismError

    how = security.describe()
    cause = exc.__cause__ or exc.__context__
    if isinstance(exc, SaslAuthenticationFailed):
        return (f"Kafka at {address} refused the SASL credentials ({how}): authentication failed; check "
                "sasl_username / $BUZZWATCH_KAFKA_SASL_USERNAME and $BUZZWATCH_KAFKA_SASL_PASSWORD(_FILE)")
    if isinstance(exc, UnsupportedSaslMechanismError):
        return (f"Kafka at {address} does not accept SASL mechanism {security.sasl_mechanism} on this listener; "
                "check sasl_mechanism / $BUZZWATCH_KAFKA_SASL_MECHANISM")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"the TLS certificate of Kafka at {address} is not trusted ({exc.verify_message}); check "
                "ssl_cafile / $BUZZWATCH_KAFKA_SSL_CAFILE (the CA that signed the broker's certificate) and "
                "that the certificate names this host")
    tls_error = exc if isinstance(exc, ssl.SSLError) else cause if isinstance(cause, ssl.SSLError) else None
    if tls_error is not None:
        reason = tls_error.reason or str(tls_error)
        if any(word in reason for word in ("CERTIFICATE", "UNKNOWN_CA", "HANDSHAKE_FAILURE")):
            return (f"Kafka at {address} refused this client's TLS certificate ({reason}); check ssl_certfile / "
                    "ssl_keyfile ($BUZZWATCH_KAFKA_SSL_CERTFILE / _KEYFILE): the listener wants a client certificate "
                    "signed by a CA it trusts")
        if not security.uses_ssl or any(word in reason for word in ("WRONG_VERSION", "RECORD", "EOF")):
            return (f"TLS with Kafka at {address} failed ({reason}): does this listener speak {security.protocol}? "
                    "check security_protocol / $BUZZWATCH_KAFKA_SECURITY_PROTOCOL")
        return f"TLS with Kafka at {address} failed ({reason}); connecting with {how}"
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return (f"Kafka at {address} did not complete the connection within {timeout_s:g} s ({how}): wrong "
                "address, a firewall, or a listener that speaks another protocol (security_protocol)")
    if isinstance(exc, KafkaConnectionError) or isinstance(cause, asyncio.IncompleteReadError):
        return (f"Kafka at {address} closed the connection during the handshake ({how}): does this listener "
                f"speak {security.protocol}? check security_protocol / $BUZZWATCH_KAFKA_SECURITY_PROTOCOL")
    if isinstance(exc, ConnectionResetError) and security.uses_ssl:
        return (f"Kafka at {address} reset the connection during the TLS handshake: does this listener speak "
                f"{security.protocol}? check security_protocol / $BUZZWATCH_KAFKA_SECURITY_PROTOCOL")
    if isinstance(exc, OSError):
        return f"cannot connect to Kafka at {address}: {exc.strerror or type(exc).__name__}"
    return f"cannot use Kafka at {address} ({how}): {type(exc).__name__}"


def _quiet_connection_errors(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """The probe's outcome is the exception it raises (made a sentence by :func:`explain`). A
    refused TLS connection also fails aiokafka's read task, whose callback can then run while
    the loop shuts down; asyncio printed that as "Exception in callback ... Traceback" after
    the clear error (seen once in the suite: a client certificate of another CA)."""
    exc = context.get("exception")
    if isinstance(exc, (OSError, EOFError, ConnectionError, RuntimeError, asyncio.CancelledError)):
        return
    loop.default_exception_handler(context)


async def _probe(host: str, port: int, security: KafkaSecurity, timeout_s: float) -> None:
    from aiokafka.conn import create_conn

    asyncio.get_running_loop().set_exception_handler(_quiet_connection_errors)
    conn = await asyncio.wait_for(
        create_conn(host, port, client_id="buzzwatch-access-check", request_timeout_ms=int(timeout_s * 1000),
                    **security.aiokafka_kwargs()),
        timeout_s,
    )
    conn.close()


def check_access(bootstrap: str, security: KafkaSecurity, timeout_s: float = DEFAULT_TIMEOUT_S) -> str:
    """Connect and authenticate to the first bootstrap server that answers; returns its
    address, or raises :class:`KafkaAccessError` with the first server's reason. An
    authentication or certificate refusal stops at once: the other servers would say the same."""
    first_error: str | None = None
    for host, port in _hosts(bootstrap):
        address = f"{host}:{port}"
        try:
            asyncio.run(_probe(host, port, security, timeout_s))
            return address
        except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
            message = explain(exc, address, security, timeout_s)
            if not isinstance(exc, (OSError, asyncio.TimeoutError, TimeoutError)) or isinstance(exc, ssl.SSLError):
                raise KafkaAccessError(message) from None
            first_error = first_error or message
    raise KafkaAccessError(first_error or "no bootstrap server answered", transient=True)
