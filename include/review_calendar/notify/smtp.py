"""A plain-``smtplib`` sender for the command line, the demo and the benchmark.

The Airflow task sends through the provider's ``SmtpHook`` (the connection
named by ``Settings.smtp_conn_id``) instead; :func:`review_calendar.notify.delivery.deliver`
only needs a ``send(msg)`` callable and does not care which one it gets.

The server comes from :class:`review_calendar.settings.SmtpSettings`
(``get_settings().smtp``), never from Airflow.
"""

from __future__ import annotations

import smtplib
import ssl as ssl_lib
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from email.message import EmailMessage

    from review_calendar.settings import SmtpSettings


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


def send_on(client: smtplib.SMTP, msg: EmailMessage) -> dict[str, Any]:
    """Send one message on an open client, to its envelope when it carries one.

    An outbox message carries its validated envelope (``message.OutgoingMessage``),
    which a retry narrows to the recipients refused before: it is sent with
    ``sendmail`` to exactly those, without parsing the encoded headers back.
    Any other message goes to its header recipients (``send_message``).

    Returns:
        ``smtplib``'s dict of refused recipients (empty when all accepted).

    Raises:
        smtplib.SMTPRecipientsRefused: Every recipient was refused.
    """
    envelope_from, envelope_to = getattr(msg, "envelope_from", ""), getattr(msg, "envelope_to", ())
    if envelope_from and envelope_to:
        return dict(client.sendmail(envelope_from, list(envelope_to), msg.as_bytes()))
    return dict(client.send_message(msg))


@contextmanager
def smtp_sender(settings: SmtpSettings) -> Iterator[Callable[[EmailMessage], dict[str, Any]]]:
    """A ``send(msg)`` that keeps one connection for the whole batch.

    The connection opens on the first message (so an unreachable server shows
    up as a send error that :func:`~review_calendar.notify.delivery.deliver`
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
            return send_on(client, msg)
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
