"""A real SMTP server for the outbox tests: aiosmtpd on 127.0.0.1, one per test.

`smtp_server` yields an `SmtpServer` with `.host`, `.port` and `.messages` (each a
`Received`: envelope sender and recipients, and the message parsed and decoded).
`refuse("451 Try again later")` makes it answer DATA with that reply (nothing is
recorded in `.messages`; the refused message goes to `.refused`) until `accept()`;
`stop()` takes it down entirely (connections are refused) and `start()` brings it
back on the same port.

tests/conftest.py imports the fixture, as it does `cast`.
"""

import email
import email.policy
import threading
from dataclasses import dataclass
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.stripe_servers import free_port

HOST = "127.0.0.1"
READY_TIMEOUT = 10.0  # seconds to wait for the server thread; it starts in milliseconds


@dataclass(frozen=True)
class Received:
    """One message as the server took it off the wire."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage  # parsed with the modern policy: headers are decoded strings

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def sender(self) -> str:
        return str(self.message["From"])

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])

    @property
    def body(self) -> str:
        """The decoded text body, with SMTP's CRLF line ends read back as "\\n"."""
        return self.message.get_content().replace("\r\n", "\n")


class _Handler:
    def __init__(self, server: "SmtpServer") -> None:
        self.server = server

    async def handle_DATA(self, _server, _session, envelope) -> str:
        received = Received(
            mail_from=envelope.mail_from,
            rcpt_tos=list(envelope.rcpt_tos),
            message=email.message_from_bytes(envelope.content, policy=email.policy.default),
        )
        with self.server.lock:
            reply = self.server.refusal
            (self.server.refused if reply else self.server.messages).append(received)
        return reply or "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        self.host = HOST
        self.port = free_port()
        self.messages: list[Received] = []
        self.refused: list[Received] = []
        self.refusal: str | None = None
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def refuse(self, reply: str = "451 Try again later") -> None:
        """Answer DATA with `reply` (a 4xx or 5xx SMTP reply) until `accept()`."""
        with self.lock:
            self.refusal = reply

    def accept(self) -> None:
        with self.lock:
            self.refusal = None

    def start(self) -> None:
        self._controller = Controller(
            _Handler(self), hostname=self.host, port=self.port, ready_timeout=READY_TIMEOUT
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_server():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()
