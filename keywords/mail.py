"""Email keywords (DIALECT §9.9.1): SEND MAIL and its synonym SEND EMAIL.

Every form the catalog declares (§11 A-36)::

    SEND MAIL to, subject, body
    SEND MAIL to, subject, body, attachments
    SEND MAIL to, subject, body, ATTACHMENT file
    SEND MAIL to, subject, body USING "account@x.com"
    SEND EMAIL to, body                      ' subject: the body's first line (78 chars)
    SEND EMAIL TO to, subject, body          ' TO is noise
    SEND MAIL TO r SUBJECT s BODY b

Delivery goes through ``ctx.service("mail")`` (runtime/services/mail.py), attachments are
read from ``ctx.service("drive")``. The value is the Message-ID. BEGIN MAIL ... END MAIL
(keywords/conversation.py) reaches the same service's ``send``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..runtime.errors import BasicError
from ..runtime.services.mail import default_subject, load_attachments
from ..runtime.values import BasicObject, to_str
from .calls import ArgValue, KeywordCall
from .registry import keyword

NOT_CONFIGURED = "email is not configured: set email-server and email-from in config.csv"
_NAMED = ("TO", "SUBJECT", "BODY")


@dataclass
class MailRequest:
    """What one SEND MAIL asks for, read from its arguments."""

    to: Any = None
    subject: Optional[str] = None  # None: the two-argument form (derive it)
    body: str = ""
    attachments: list = field(default_factory=list)
    account: Optional[str] = None


def mail_service(ctx):
    """The mail service, or the trappable "not configured" error."""
    service = ctx.service("mail")
    if service is None:
        raise BasicError(NOT_CONFIGURED)
    return service


@keyword("SEND MAIL",
         shapes=[r"(TO )?x(,x){1,2}(,x|, ATTACHMENT x)?( USING x)?", "TO x SUBJECT x BODY x"],
         connectors=["TO", "USING", "SUBJECT", "BODY", "ATTACHMENT"], aliases=["SEND EMAIL"])
async def send_mail(ctx, call: KeywordCall):
    """Send one email; the value is its Message-ID (§9.9.1)."""
    service = mail_service(ctx)
    request = read_request(call)
    if request.account:
        # Connected accounts (USE ACCOUNT, §9.2.6) are not there yet: the bot's server sends.
        ctx.logger.info("SEND MAIL USING %s: connected accounts are not supported yet; "
                        "sending through the bot's mail server", request.account)
    subject = request.subject
    if subject is None:
        subject = default_subject(request.body, bot_title(ctx))
    try:
        attachments = await load_attachments(request.attachments, ctx.service("drive"))
        return await service.send(request.to, subject, request.body, attachments,
                                  logger=ctx.logger)
    except BasicError as exc:
        # §9.9.1: failures are logged as well as raised (a trapped error leaves no trace).
        ctx.logger.warning("SEND MAIL to %s failed: %s", to_str(request.to), exc.message)
        raise


def read_request(call: KeywordCall) -> MailRequest:
    """The recipient, subject, body, attachments and account of any declared form."""
    args = _written_args(call)
    if any(arg.sep in ("SUBJECT", "BODY") for arg in args):
        return _named_form(args)
    request = MailRequest()
    positional = []
    for arg in args:
        if arg.sep == "USING":
            request.account = to_str(arg.value)
        elif arg.sep == "ATTACHMENT":
            request.attachments.append(arg.value)
        else:
            positional.append(arg.value)
    _fill_positional(request, positional)
    return request


def _written_args(call: KeywordCall) -> list[ArgValue]:
    """The arguments with an expression: ``, ATTACHMENT f`` also yields an empty comma
    argument, which is not a NULL the script wrote."""
    raw = call.raw_args
    if len(raw) != len(call.args):
        return list(call.args)
    return [arg for arg, node in zip(call.args, raw) if node.expr is not None]


def _named_form(args: list[ArgValue]) -> MailRequest:
    """``TO r SUBJECT s BODY b``."""
    named = {arg.sep: arg.value for arg in args if arg.sep in _NAMED}
    return MailRequest(to=named.get("TO"), subject=to_str(named.get("SUBJECT")),
                       body=to_str(named.get("BODY")))


def _fill_positional(request: MailRequest, values: list) -> None:
    """``to, body`` / ``to, subject, body`` / ``to, subject, body, attachments``."""
    if len(values) < 2:
        raise BasicError("SEND MAIL needs a recipient and a body")
    request.to = values[0]
    if len(values) == 2:
        request.body = to_str(values[1])
        return
    request.subject, request.body = to_str(values[1]), to_str(values[2])
    request.attachments[:0] = values[3:]


def bot_title(ctx) -> str:
    """The bot's name for a subject that the body cannot give (§11 A-36)."""
    bot = ctx.variables.get("bot")
    if isinstance(bot, BasicObject):
        title = bot.lookup("title") or bot.lookup("name")
        if title:
            return to_str(title)
    return ctx.session.bot_id or ""
