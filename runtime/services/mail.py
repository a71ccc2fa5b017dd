"""The mail service: outgoing email of SEND MAIL and BEGIN MAIL (DIALECT §9.9.1, §9.9.2).

``MailService.from_config(config)`` reads the bot's ``config.csv``; it gives None when
``email-server`` is not set, so a host can always write ``mail=MailService.from_config(c)``
and the keywords report "email is not configured". Settings:

* ``email-server`` (required), ``email-port``, ``email-user`` / ``email-pass`` (login
  when a user is set), ``email-from`` (the sender; else ``email-user`` when it is an
  address);
* ``email-tls``: ``none`` | ``starttls`` | ``ssl``. Without it the port decides: 465 is
  implicit TLS, 587 is STARTTLS, any other port is plain SMTP. Without either, 587 and
  STARTTLS. ``email-tls-verify`` (default true) checks the server's certificate;
* ``email-timeout-secs`` (30 s): connecting and each command.

``MailService.send(to, subject, body, attachments)`` builds one MIME message — plain text,
or HTML with a plain-text alternative when the body contains HTML tags — delivers it and
returns its Message-ID. ``to`` is one address, several separated by ``,`` or ``;``, or a
list of them. Attachments are ``MailAttachment`` values; ``load_attachments`` reads them
from the bot drive. Every failure is a ``BasicError`` naming the server — never an
aiosmtplib exception — so scripts can trap it with ON ERROR.
"""
from __future__ import annotations

import logging
import re
import ssl
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid
from html import unescape
from html.parser import HTMLParser
from typing import Iterable, Optional

import aiosmtplib

from ..errors import BasicError
from ..values import BasicObject, FileValue, to_str
from .drive import guess_mime_type

log = logging.getLogger("botbasic.mail")

DEFAULT_TIMEOUT = 30.0
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024  # what the big providers accept per message

# Words people write for each TLS mode in config.csv.
_TLS_WORDS = {
    "none": "none", "off": "none", "false": "none", "no": "none", "plain": "none",
    "starttls": "starttls", "start-tls": "starttls",
    "ssl": "ssl", "tls": "ssl", "smtps": "ssl", "implicit": "ssl",
}
_PORT_TLS = {465: "ssl", 587: "starttls"}
_TLS_PORT = {"ssl": 465, "starttls": 587, "none": 25}

# Tags that make a body HTML. A fixed list, not "anything in angle brackets": plain text
# such as "Ann <ann@x.com>" or "<order id>" written by a script must stay plain text.
_HTML_TAG = re.compile(
    r"</?(html|head|body|p|br|div|span|a|b|i|u|em|strong|h[1-6]|ul|ol|li|table|thead|tbody"
    r"|tr|td|th|img|hr|font|center|blockquote|pre|code|small|style)(\s[^<>]*)?/?>",
    re.IGNORECASE)


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class MailSettings:
    """Where and how to deliver: the ``email-*`` keys of config.csv (see module doc)."""

    server: str
    port: int
    tls: str
    sender: str
    user: Optional[str] = None
    password: Optional[str] = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT
    verify_certs: bool = True
    bot_name: str = ""  # the subject of a mail written without one (§11 A-36)

    @property
    def address(self) -> str:
        """``host:port``, the way error messages name the server."""
        return f"{self.server}:{self.port}"

    @classmethod
    def from_config(cls, config) -> Optional["MailSettings"]:
        """The settings of a ``BotConfig``; None when ``email-server`` is not set."""
        server = (config.get("email-server") or "").strip() if config is not None else ""
        if not server:
            return None
        port = config.get_int("email-port")
        tls = _tls_mode(config.get("email-tls"), port)
        user = (config.get("email-user") or "").strip() or None
        return cls(
            server=server, port=port or _TLS_PORT[tls], tls=tls,
            sender=_sender(config.get("email-from"), user), user=user,
            password=config.get("email-pass") or None, timeout=_timeout(config),
            verify_certs=config.get_bool("email-tls-verify", True),
            bot_name=(config.get("bot-name") or "").strip())


def _tls_mode(word: Optional[str], port: Optional[int]) -> str:
    """The TLS mode written in config.csv, else the usual one for ``port``."""
    if word and word.strip():
        mode = _TLS_WORDS.get(word.strip().lower())
        if mode is not None:
            return mode
        log.warning("email-tls %r is not none, starttls or ssl; using the port's default", word)
    if port is None:
        return "starttls"
    return _PORT_TLS.get(port, "none")


def _timeout(config) -> float:
    seconds = config.get_float("email-timeout-secs", config.get_float("email-timeout"))
    return seconds if seconds and seconds > 0 else DEFAULT_TIMEOUT


def _sender(configured: Optional[str], user: Optional[str]) -> str:
    """``email-from``, else the login when it is an address (most providers require it)."""
    sender = (configured or "").strip()
    if not sender and user and "@" in user:
        sender = user
    return sender


# ---------------------------------------------------------------- recipients


def parse_recipients(value) -> list[str]:
    """The addresses of a SEND MAIL ``to``: text with ``,``/``;`` separators, or a list.

    Display names are kept (``Ann <ann@x.com>``); anything without an ``@`` is an error,
    because a typo would otherwise be accepted by the server and bounce silently.
    """
    items = value if isinstance(value, (list, tuple)) else [value]
    found = [pair for item in items for pair in _addresses_in(_recipient_text(item))]
    if not found:
        raise BasicError("an email needs a recipient")
    return [_formatted(name, address) for name, address in found]


def _addresses_in(text: str) -> list[tuple[str, str]]:
    """``(display name, address)`` pairs of one recipient text; an error names the text."""
    pairs = [pair for pair in getaddresses([text.replace(";", ",")]) if any(pair)]
    if any("@" not in address for _, address in pairs):
        raise BasicError(f"not an email address: {text.strip()}")
    return pairs


def _formatted(name: str, address: str) -> str:
    """``Ann <ann@x.com>`` with the name quoted as needed; a malformed address is an error."""
    if not name:
        return address
    try:
        return str(Address(display_name=name, addr_spec=address))
    except (ValueError, IndexError):
        raise BasicError(f"not an email address: {address}") from None


def _recipient_text(item) -> str:
    """The text of one recipient item; an object (a row) gives its ``email`` member."""
    if isinstance(item, BasicObject):
        item = item.lookup("email")
    return to_str(item)


# ---------------------------------------------------------------- attachments


@dataclass(frozen=True)
class MailAttachment:
    """One file to attach: its name, content and MIME type."""

    name: str
    data: bytes = field(repr=False)
    mime_type: str = "application/octet-stream"


async def load_attachments(value, drive) -> list[MailAttachment]:
    """Read the attachments a script gave: a drive path, a file value, an object with a
    ``path`` member, or a list of them. NULL and ``""`` mean none."""
    wanted = [item for item in _flattened(value) if to_str(item).strip() != ""]
    if wanted and drive is None:
        raise BasicError("email attachments need the bot drive, which is not available")
    attachments = [await _load_attachment(item, drive) for item in wanted]
    total = sum(len(a.data) for a in attachments)
    if total > MAX_ATTACHMENT_BYTES:
        raise BasicError(f"email attachments are too big ({total} bytes, "
                         f"at most {MAX_ATTACHMENT_BYTES})")
    return attachments


def _flattened(value) -> list:
    """The items of a value that may be a list of lists (``SEND MAIL ..., files``)."""
    if isinstance(value, (list, tuple)):
        return [item for inner in value for item in _flattened(inner)]
    return [] if value is None else [value]


async def _load_attachment(item, drive) -> MailAttachment:
    path, name, mime_type = _attachment_source(item)
    try:
        data = await drive.read_bytes(path)
    except BasicError as exc:
        raise BasicError(f"email attachment: {exc.message}") from None
    name = name or path.rstrip("/").rsplit("/", 1)[-1]
    return MailAttachment(name, data, mime_type or guess_mime_type(name))


def _attachment_source(item) -> tuple[str, Optional[str], Optional[str]]:
    """``(drive path, name, mime type)`` of one attachment value."""
    if isinstance(item, FileValue):
        if not item.path:
            raise BasicError(f"cannot attach {item.name or item.url}: it is not in the bot drive "
                             f"(DOWNLOAD it first)")
        return item.path, item.name, item.mime_type
    if isinstance(item, BasicObject) and item.lookup("path"):
        return to_str(item.lookup("path")), _optional_text(item.lookup("name")), None
    text = to_str(item).strip()
    if re.match(r"(?i)https?://", text):
        raise BasicError(f"cannot attach {text}: DOWNLOAD it to the bot drive first")
    return text, None, None


def _optional_text(value) -> Optional[str]:
    return to_str(value) if value not in (None, "") else None


# ---------------------------------------------------------------- the message


def looks_like_html(body: str) -> bool:
    """Whether ``body`` contains HTML tags (then it is sent as HTML, §9.9.1)."""
    return _HTML_TAG.search(body) is not None


class _TextOfHtml(HTMLParser):
    """Collects the readable text of an HTML body for the plain-text alternative."""

    SKIPPED = frozenset(("head", "style", "script", "title"))
    BREAKS = frozenset(("br", "p", "div", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4",
                        "h5", "h6", "blockquote", "pre", "hr"))

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.links: list[Optional[str]] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIPPED:
            self.skipping += 1
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in self.BREAKS:
            self.parts.append("\n")
        if tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag):
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BREAKS:
            self.parts.append("\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            # Keep the address of a link: the reader of the text part cannot click it.
            if href and not href.startswith(("#", "mailto:")) and href not in self.parts[-1:]:
                self.parts.append(f" ({href})")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(body: str) -> str:
    """A readable plain-text version of an HTML body."""
    parser = _TextOfHtml()
    parser.feed(body)
    parser.close()
    lines = [line.strip() for line in unescape("".join(parser.parts)).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def default_subject(body: str, fallback: str = "") -> str:
    """The subject of a mail written without one (§11 A-36): the first line of the body
    that has text (of its readable text when it is HTML), cut to 78 characters; else
    ``fallback`` (the bot's name)."""
    text = html_to_text(body) if looks_like_html(body) else body
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first[:78].rstrip() or fallback


def one_line(text: str) -> str:
    """A header value: line breaks would end the header (or inject new ones)."""
    return " ".join(to_str(text).split())


def build_message(sender: str, recipients: list[str], subject: str, body: str,
                  attachments: Iterable[MailAttachment] = ()) -> EmailMessage:
    """The MIME message: text, or HTML plus its text alternative, then the attachments."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = one_line(subject)
    message["Date"] = formatdate(localtime=True)
    # An explicit domain: make_msgid would otherwise look up this host's name.
    message["Message-ID"] = make_msgid(domain=_domain_of(sender))
    if looks_like_html(body):
        message.set_content(html_to_text(body))
        message.add_alternative(body, subtype="html")
    else:
        message.set_content(body)
    for attachment in attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(attachment.data, maintype=maintype or "application",
                               subtype=subtype or "octet-stream", filename=attachment.name)
    return message


def _domain_of(sender: str) -> str:
    address = getaddresses([sender])[0][1]
    return address.rpartition("@")[2] or "localhost"


# ---------------------------------------------------------------- the service


class MailService:
    """Sends email through one SMTP server (see module doc)."""

    def __init__(self, settings: MailSettings):
        self.settings = settings

    @classmethod
    def from_config(cls, config) -> Optional["MailService"]:
        """The bot's mail service, or None when config.csv sets no ``email-server``."""
        settings = MailSettings.from_config(config)
        return None if settings is None else cls(settings)

    async def send(self, to, subject, body, attachments: Iterable[MailAttachment] = (), *,
                   logger: Optional[logging.Logger] = None) -> str:
        """Deliver one message; returns its Message-ID (``<...@domain>``).

        A blank ``subject`` is derived from the body (``default_subject``): the
        two-argument SEND MAIL and a BEGIN MAIL without a ``Subject:`` line. Recipients
        the server refuses while it accepts others are reported to ``logger``.
        """
        if not self.settings.sender:
            raise BasicError("email-from is not set in config.csv: no sender for the email")
        recipients = parse_recipients(to)
        body = to_str(body)
        subject = one_line(to_str(subject)) or default_subject(body, self.settings.bot_name)
        message = build_message(self.settings.sender, recipients, subject, body, attachments)
        refused = await self._deliver(message, [_bare_address(r) for r in recipients])
        if refused:
            # The others got the message: raising would make a retry send it twice.
            (logger or log).warning("the mail server %s refused %s", self.settings.address,
                                    ", ".join(refused))
        return message["Message-ID"]

    async def _deliver(self, message: EmailMessage, recipients: list[str]) -> list[str]:
        """Hand the message to the server; returns the recipients it refused."""
        settings = self.settings
        try:
            errors, _ = await aiosmtplib.send(
                message, sender=_bare_address(settings.sender), recipients=recipients,
                hostname=settings.server, port=settings.port,
                username=settings.user, password=settings.password if settings.user else None,
                use_tls=settings.tls == "ssl", start_tls=settings.tls == "starttls",
                validate_certs=settings.verify_certs, timeout=settings.timeout)
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise BasicError(describe_failure(exc, settings)) from None
        return sorted(errors)


def _bare_address(recipient: str) -> str:
    """``Ann <ann@x.com>`` -> ``ann@x.com`` (the SMTP envelope takes bare addresses)."""
    return getaddresses([recipient])[0][1] or recipient


def describe_failure(exc: Exception, settings: MailSettings) -> str:
    """A script-readable message for a delivery failure, naming the server."""
    server = f"the mail server {settings.address}"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return f"{server} refused the login of {settings.user} ({_reply(exc)})"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = ", ".join(f"{r.recipient} ({_reply(r)})" for r in exc.recipients)
        return f"{server} refused the recipient {refused}"
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return f"{server} refused the recipient {exc.recipient} ({_reply(exc)})"
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return f"{server} refused the sender {exc.sender} ({_reply(exc)})"
    if isinstance(exc, aiosmtplib.SMTPTimeoutError):
        return f"{server} did not answer within {settings.timeout:g} s"
    tls_error = _tls_error(exc)
    if tls_error is not None:
        return f"TLS with {server} failed ({tls_error})"
    if isinstance(exc, (aiosmtplib.SMTPConnectError, ConnectionError)):
        return f"cannot connect to {server} ({_reason(exc)})"
    if "STARTTLS" in _reason(exc).upper():
        return f"{server} does not offer STARTTLS (set email-tls to none or ssl)"
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return f"{server} does not support what email-tls / email-user need ({_reason(exc)})"
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return f"{server} refused the email ({_reply(exc)})"
    return f"sending email through {server} failed ({_reason(exc)})"


def _reply(exc) -> str:
    """``550 no such user`` from an SMTP error reply."""
    return f"{exc.code} {one_line(exc.message)}".strip()


def _tls_error(exc: BaseException) -> Optional[str]:
    """What went wrong in the TLS handshake, when that is what failed."""
    for error in (exc, exc.__cause__):
        if isinstance(error, ssl.SSLCertVerificationError):
            return f"{error.verify_message}; email-tls-verify false accepts it"
        if isinstance(error, ssl.SSLError):
            return error.reason or str(error)
    return None


def _reason(exc: BaseException) -> str:
    """The why of a failure; aiosmtplib's connect errors wrap the socket error that says it."""
    if isinstance(exc, aiosmtplib.SMTPConnectError) and isinstance(exc.__cause__, OSError):
        exc = exc.__cause__
    text = getattr(exc, "strerror", None) or getattr(exc, "message", None) or str(exc)
    return one_line(text) or type(exc).__name__
