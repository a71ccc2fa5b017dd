"""A real local SMTP server for the email keyword tests.

``smtp_server()`` runs aiosmtpd on 127.0.0.1 (a free port) in its own thread for the
duration of a ``with``; every message it accepts is recorded as a ``Received`` (envelope,
parsed message, whether the session was encrypted, who logged in). Options:

* ``tls="starttls"`` offers STARTTLS, ``tls="ssl"`` speaks TLS from the first byte; both
  use a throw-away self-signed certificate made with the ``openssl`` command;
* ``users={"bot": "secret"}`` offers AUTH and accepts only those logins;
* any recipient containing ``reject`` is refused with ``550 5.1.1 no such user``.

``server.config(**keys)`` gives the ``BotConfig`` that points a bot at the server
(``email_tls="starttls"`` -> ``email-tls,starttls``).
"""
from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Optional

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from botbasic.runtime.config import BotConfig

SENDER = "bot@example.com"


@dataclass
class Received:
    """One message the server accepted."""

    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool
    login: Optional[str]

    def header(self, name: str) -> str:
        return str(self.message[name] or "")

    def text(self) -> str:
        """The plain-text part (the body itself, or the alternative of an HTML mail)."""
        return _lines(self.message.get_body(("plain",)).get_content())

    def html(self) -> Optional[str]:
        part = self.message.get_body(("html",))
        return None if part is None else _lines(part.get_content())

    def attachments(self) -> dict[str, tuple[str, bytes]]:
        """``{filename: (content type, bytes)}``."""
        return {part.get_filename(): (part.get_content_type(), part.get_payload(decode=True))
                for part in self.message.iter_attachments()}


def _lines(text: str) -> str:
    """SMTP carries CRLF line ends; the tests compare with the script's ``\\n``."""
    return text.replace("\r\n", "\n")


class RecordingHandler:
    """aiosmtpd handler: refuses ``reject`` recipients, records every message."""

    def __init__(self):
        self.received: list[Received] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "reject" in address:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        login = session.auth_data.login.decode() if session.authenticated else None
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message,
                                      _encrypted(server, session), login))
        return "250 Message accepted"


def _encrypted(server, session) -> bool:
    """Whether the session runs over TLS: after STARTTLS, or from the start (port 465)."""
    return session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None


class SmtpServer:
    """A running local server (see module doc)."""

    def __init__(self, controller: Controller, handler: RecordingHandler):
        self.controller = controller
        self.handler = handler

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def clear(self) -> None:
        self.handler.received.clear()

    def config(self, **keys: str) -> BotConfig:
        """config.csv entries for this server; keyword names use ``_`` for ``-``."""
        entries = {"email-server": self.host, "email-port": str(self.port), "email-from": SENDER}
        entries.update({key.replace("_", "-"): value for key, value in keys.items()})
        return BotConfig(entries.items())


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def smtp_server(*, tls: Optional[str] = None, users: Optional[dict] = None):
    """Run a recording SMTP server for the duration of the ``with`` (see module doc)."""
    handler = RecordingHandler()
    with tempfile.TemporaryDirectory() as folder:
        options = _tls_options(tls, Path(folder)) if tls else {}
        if users is not None:
            options.update(authenticator=_Authenticator(users), auth_require_tls=False)
        controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
        controller.start()
        try:
            yield SmtpServer(controller, handler)
        finally:
            controller.stop()


def _tls_options(tls: str, folder: Path) -> dict:
    context = _self_signed_context(folder)
    if tls == "ssl":
        return {"ssl_context": context}
    return {"tls_context": context}


def _self_signed_context(folder: Path) -> ssl.SSLContext:
    """A server context with a fresh self-signed certificate for 127.0.0.1."""
    if shutil.which("openssl") is None:
        import pytest
        pytest.skip("the openssl command is needed for the TLS tests")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


class _Authenticator:
    """Accepts the logins of ``users`` (``{name: password}``) and nothing else."""

    def __init__(self, users: dict):
        self.users = users

    def __call__(self, server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode()
        ok = self.users.get(login) == auth_data.password.decode()
        # handled=False: aiosmtpd then answers the failure itself (535).
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
