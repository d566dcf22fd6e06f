"""A plain-``smtplib`` sender for the command line, the demo and the benchmark.

The Airflow task sends through the provider's ``SmtpHook`` (the ``smtp_default``
connection) instead; :func:`review_calendar.notify.outbox.deliver` only
needs a ``send(msg)`` callable and does not care which one it gets.

Settings come from the environment (deployment tier, STYLE.md point 9), never
from Airflow: ``REVIEW_CALENDAR_SMTP_HOST``, ``_PORT``, ``_USER``,
``_PASSWORD``, ``_STARTTLS``, ``_SSL``, ``_TIMEOUT``.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl as ssl_lib
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping
    from email.message import EmailMessage

log = logging.getLogger(__name__)

ENV_PREFIX = "REVIEW_CALENDAR_SMTP_"
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how to connect to the SMTP server.

    Attributes:
        host: Server name or address.
        port: Port (25, 587 with STARTTLS, 465 with implicit TLS).
        user: Login (None: no authentication).
        password: Password (never shown in ``repr``).
        starttls: Upgrade the connection with STARTTLS before logging in.
        ssl: Connect with implicit TLS (``SMTP_SSL``).
        timeout: Socket timeout in seconds.
    """

    host: str = "localhost"
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings:
        """Read ``REVIEW_CALENDAR_SMTP_*`` variables.

        Args:
            env: Mapping to read instead of ``os.environ`` (tests).

        Returns:
            The settings; the port defaults to 465 with SSL, 587 with STARTTLS, else 25.

        Raises:
            ValueError: PORT or TIMEOUT is not a number, or both SSL and STARTTLS are set.
        """
        env = os.environ if env is None else env

        def get(name: str) -> str:
            return (env.get(ENV_PREFIX + name) or "").strip()

        use_ssl, starttls = get("SSL").lower() in _TRUE, get("STARTTLS").lower() in _TRUE
        if use_ssl and starttls:
            raise ValueError(f"{ENV_PREFIX}SSL and {ENV_PREFIX}STARTTLS exclude each other")
        default_port = 465 if use_ssl else 587 if starttls else 25
        try:
            port = int(get("PORT") or default_port)
            timeout = float(get("TIMEOUT") or 30)
        except ValueError:
            raise ValueError(f"{ENV_PREFIX}PORT and {ENV_PREFIX}TIMEOUT must be numbers") from None
        return cls(
            host=get("HOST") or "localhost",
            port=port,
            user=get("USER") or None,
            password=env.get(ENV_PREFIX + "PASSWORD") or None,
            starttls=starttls,
            ssl=use_ssl,
            timeout=timeout,
        )


def connect(settings: SmtpSettings) -> smtplib.SMTP:
    """Open, secure and authenticate one SMTP connection.

    Args:
        settings: The server settings.

    Returns:
        A connected client.

    Raises:
        OSError: The server cannot be reached (``ConnectionRefusedError``, timeout...).
        smtplib.SMTPException: TLS or login failed.
    """
    context = ssl_lib.create_default_context()
    client: smtplib.SMTP
    if settings.ssl:
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        client.ehlo()
        if settings.starttls:
            client.starttls(context=context)
            client.ehlo()
        if settings.user:
            client.login(settings.user, settings.password or "")
    except BaseException:
        client.close()
        raise
    return client


@contextmanager
def smtp_sender(settings: SmtpSettings) -> Iterator[Callable[[EmailMessage], dict[str, Any]]]:
    """A ``send(msg)`` that keeps one connection for the whole batch.

    The connection opens on the first message (so an unreachable server shows
    up as a send error that :func:`~review_calendar.notify.outbox.deliver`
    records) and closes when the block ends. After a connection error the next
    message reconnects.

    Args:
        settings: The server settings.

    Yields:
        ``send(msg)``, returning ``smtplib``'s dict of refused recipients (empty when all accepted).
    """
    state: dict[str, smtplib.SMTP | None] = {"client": None}

    def send(msg: EmailMessage) -> dict[str, Any]:
        client = state["client"]
        if client is None:
            client = state["client"] = connect(settings)
        try:
            # An outbox message carries its validated envelope (outbox.OutgoingMessage):
            # no need for send_message to parse the encoded headers back.
            envelope_from, envelope_to = getattr(msg, "envelope_from", ""), getattr(msg, "envelope_to", ())
            if envelope_from and envelope_to:
                return dict(client.sendmail(envelope_from, list(envelope_to), msg.as_bytes()))
            return dict(client.send_message(msg))
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
            raise  # the server answered: the connection is still usable
        except OSError:  # includes SMTPServerDisconnected: drop it, reconnect next time
            state["client"] = None
            client.close()
            raise

    try:
        yield send
    finally:
        client = state["client"]
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()
