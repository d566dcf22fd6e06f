"""A real local SMTP server that stores what it receives (aiosmtpd), for tests, demo and benchmark.

Nothing is mocked: clients talk SMTP over TCP to 127.0.0.1. The server keeps
every message with its envelope (MAIL FROM, RCPT TO) in memory (parsed with
``email.policy.default`` when first read), and optionally writes each one as an ``.eml`` file
(the demo prints that folder). It can be stopped and started again on the same
port to simulate an outage, told to refuse some recipients, and slowed down
(``delay`` seconds before answering each message).

Usage::

    server = LocalSmtpServer().start()
    ...  # send to server.host, server.port
    server.messages  # list[EmailMessage]
    server.stop()

or run ``python -m review_calendar_demo.local_smtp --port 2525 --maildir var/mail`` to keep one
running in the foreground. No pytest import here: the demo script uses it too.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from functools import cached_property
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

# aiosmtpd logs every envelope address at INFO; keep test and demo logs free of them.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the server received it.

    Attributes:
        mail_from: Envelope sender.
        rcpt_tos: Envelope recipients (who really gets the message, Bcc included).
        raw: The bytes of the DATA phase.
    """

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @cached_property
    def message(self) -> EmailMessage:
        """``raw`` parsed with ``email.policy.default`` (on first use, not while receiving)."""
        message = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        return message


class _Handler:
    def __init__(self, server: LocalSmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list
    ) -> str:
        if address.lower() in self.server.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.server.data_started.set()
        if self.server.delay:
            await asyncio.sleep(self.server.delay)  # a slow server: the client waits for the reply
        raw = bytes(envelope.original_content or envelope.content)
        self.server._store(ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), raw))
        return "250 Message accepted for delivery"


class LocalSmtpServer:
    """An aiosmtpd server on 127.0.0.1 that stores the messages it receives.

    Args:
        host: Interface to listen on.
        port: Port (default: a free one, kept across :meth:`stop` / :meth:`start`).
        maildir: Folder to write each message to as ``<n>.eml`` (None: memory only).
    """

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, maildir: Path | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.maildir = maildir
        self.refuse: set[str] = set()
        #: Seconds the server takes to answer each message's DATA (a slow server).
        self.delay = 0.0
        #: Set when a message's DATA phase starts.
        self.data_started = threading.Event()
        self._received: list[ReceivedMail] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> LocalSmtpServer:
        """Start listening (again, after :meth:`stop`, on the same port)."""
        if self._controller is None:
            if self.maildir is not None:
                self.maildir.mkdir(parents=True, exist_ok=True)
            controller = Controller(_Handler(self), hostname=self.host, port=self.port, ready_timeout=10)
            controller.start()
            self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening; what was received stays available."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        """True while the server accepts connections."""
        return self._controller is not None

    def _store(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._received.append(mail)
            number = len(self._received)
        if self.maildir is not None:
            (self.maildir / f"{number:05d}.eml").write_bytes(mail.raw)

    @property
    def received(self) -> list[ReceivedMail]:
        """Every message received so far, with its envelope, oldest first."""
        with self._lock:
            return list(self._received)

    @property
    def messages(self) -> list[EmailMessage]:
        """Every message received so far, parsed, oldest first."""
        return [m.message for m in self.received]

    def clear(self) -> None:
        """Forget what was received."""
        with self._lock:
            self._received.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Wait until at least ``count`` messages arrived (or ``timeout`` seconds passed)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.messages

    def __enter__(self) -> LocalSmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """Run a server in the foreground until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--maildir", type=Path, default=None)
    args = parser.parse_args()
    with LocalSmtpServer(port=args.port, maildir=args.maildir) as server:
        print(
            f"SMTP server on {server.host}:{server.port}; mails in {args.maildir or 'memory'} (Ctrl-C stops)"
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
