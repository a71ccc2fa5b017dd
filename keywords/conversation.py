"""Conversation keywords (DIALECT §9.1): TALK, HEAR, ASK, WAIT, suggestions, logging,
contexts and the verbatim BEGIN TALK / SYSTEM PROMPT / MAIL blocks (§9.1.3, §9.3).

Messages go to the user through ``ctx.say`` (an ``{"type": "message"}`` event); the
suggestion list lives in ``ctx.session.suggestions`` and every change is also emitted as
``{"type": "suggestions", "items": [...]}``. A suggestion is a dict with ``kind``
("context" | "text_value" | "invoke_tool"), ``text`` (the label) and ``context`` /
``value`` / ``tool`` as the kind needs.
"""
from __future__ import annotations

from typing import Any, Optional

from ..runtime.errors import BasicError
from ..runtime.values import FileValue, to_num, to_str
from .calls import KeywordCall
from .input_types import canonical_type, error_message, is_media_type, validate_input
from .registry import keyword

CONTEXT_BUDGET = 16_000  # characters kept of one SET CONTEXT text (§9.3.1)
SKIP_ANSWERS = ("", "skip", "-")


# ---------------------------------------------------------------- TALK and friends


@keyword("TALK", shapes=["x"], value=False)
async def talk(ctx, call: KeywordCall):
    """Send one message to the current user (§9.1.1)."""
    _say(ctx, to_str(call.args[0].value if call.args else None))


@keyword("SEND MESSAGE", shapes=["x"], value=False, status="compat")
async def send_message(ctx, call: KeywordCall):
    """Compat synonym of TALK."""
    _say(ctx, to_str(call.args[0].value))


@keyword("BEGIN TALK", shapes=["x"], value=False, statement=False)
async def begin_talk(ctx, call: KeywordCall):
    """A BEGIN TALK ... END TALK block: its whole text is one message (§9.1.3)."""
    _say(ctx, to_str(call.args[0].value))


def _say(ctx, text: str) -> None:
    if not ctx.interactive:
        ctx.logger.info("TALK without a user: %s", text)
    ctx.say(text)


@keyword("TALK TO", shapes=["x,x"], value=False)
async def talk_to(ctx, call: KeywordCall):
    """Send a message to another recipient through the channel service (§9.1.2)."""
    recipient, message = call.values[0], call.values[1]
    channels = ctx.service("channels")
    if channels is None:
        raise BasicError(f"no channel for {to_str(recipient)}")
    await channels.send(to_str(recipient), to_str(message))


@keyword("SEND TO", shapes=["x,x"], value=False)
async def send_to(ctx, call: KeywordCall):
    """Synonym of TALK TO."""
    await talk_to(ctx, call)


@keyword("PRINT", value=False)
async def print_(ctx, call: KeywordCall):
    """Write to the bot's log, never to the user (§9.1.1, §11 A-32)."""
    ctx.logger.info("%s", " ".join(to_str(v) for v in call.values))


_LOG_LEVELS = {"LOG": "info", "LOG INFO": "info", "LOG WARN": "warning",
               "LOG ERROR": "error", "LOG DEBUG": "debug"}


def _log(ctx, call: KeywordCall) -> None:
    level = _LOG_LEVELS[call.spec.phrase]
    getattr(ctx.logger, level)("%s", " ".join(to_str(v) for v in call.values))


@keyword("LOG", shapes=["x(,x)*"], value=False)
async def log_(ctx, call: KeywordCall):
    """Write to the bot's log (LOG, LOG INFO/WARN/ERROR/DEBUG: §9.12)."""
    _log(ctx, call)


@keyword("LOG INFO", shapes=["x(,x)*"], value=False)
async def log_info(ctx, call: KeywordCall):
    _log(ctx, call)


@keyword("LOG WARN", shapes=["x(,x)*"], value=False)
async def log_warn(ctx, call: KeywordCall):
    _log(ctx, call)


@keyword("LOG ERROR", shapes=["x(,x)*"], value=False)
async def log_error(ctx, call: KeywordCall):
    _log(ctx, call)


@keyword("LOG DEBUG", shapes=["x(,x)*"], value=False)
async def log_debug(ctx, call: KeywordCall):
    _log(ctx, call)


@keyword("WAIT", shapes=["x"], value=False)
async def wait(ctx, call: KeywordCall):
    """Pause for some seconds (capped, §9.1.5); goes through ``ctx.sleep``."""
    seconds = to_num(call.values[0])
    if seconds < 0:
        raise BasicError(f"WAIT needs a positive number of seconds, not {to_str(seconds)}")
    await ctx.sleep(min(seconds, ctx.limits.max_wait_seconds))


# ---------------------------------------------------------------- HEAR and ASK


class Question:
    """What a HEAR asks: an input type or menu options, a prompt, a default."""

    def __init__(self, type_name: str = "STRING", options: Optional[list] = None,
                 prompt: Any = None, default: Any = None, has_default: bool = False):
        self.type_name = type_name
        self.options = options
        self.prompt = prompt
        self.default = default
        self.has_default = has_default

    @classmethod
    def from_call(cls, call: KeywordCall) -> "Question":
        question = cls()
        leading = call.leading()
        if leading:
            question.prompt = leading[0].value  # x = HEAR "prompt" / x = ASK "prompt"
        question.read_as(call.after("AS"))
        menu = call.after("AS MENU")
        if menu:
            question.options = [to_str(a.value) for a in menu]
        for arg in call.args:
            if arg.sep == "WITH":
                question.prompt = arg.value
            elif arg.sep == "DEFAULT":
                question.default, question.has_default = arg.value, True
        return question

    def read_as(self, args) -> None:
        """``AS type`` / ``AS "a", "b"`` / ``AS array`` / ``AS "single prompt"`` (§11 A-24)."""
        if not args:
            return
        if len(args) > 1:
            self.options = [to_str(a.value) for a in args]
            return
        arg = args[0]
        if arg.name is not None and _is_type_word(arg.name):
            self.type_name = canonical_type(arg.name)
        elif isinstance(arg.value, list):
            self.options = [to_str(v) for v in arg.value]
        elif isinstance(arg.value, str) and _is_type_word(arg.value):
            self.type_name = canonical_type(arg.value)
        elif arg.value is not None:
            self.prompt = arg.value


def _is_type_word(word: str) -> bool:
    return canonical_type(word) != "STRING" or word.strip().upper() in ("STRING", "TEXT")


@keyword("HEAR", shapes=[r"(x)?( AS x(,x)*| AS MENU x(,x)*)?( WITH x)?( DEFAULT x)?"],
         connectors=["AS", "AS MENU", "WITH", "DEFAULT"], suspends=True, target=True)
async def hear(ctx, call: KeywordCall):
    """Wait for the user's next message and validate it (§9.1.4)."""
    question = Question.from_call(call)
    if not call.resumed:
        return ask_user(ctx, call, question)
    return await take_answer(ctx, call, question)


@keyword("ASK", shapes=["x"], suspends=True, status="compat")
async def ask(ctx, call: KeywordCall):
    """``x = ASK "prompt"``: TALK the prompt, then HEAR the answer as text (§9.1.10)."""
    return await hear(ctx, call)


def ask_user(ctx, call: KeywordCall, question: Question):
    """The first half of HEAR: prompt, menu buttons, then wait."""
    if not ctx.interactive:
        raise BasicError("no user to hear from")
    if question.prompt is not None:
        ctx.say(to_str(question.prompt))
    if question.options:
        added = [_suggestion("text_value", option, value=option) for option in question.options]
        call.state["menu"] = [s for s in added if _add_suggestion(ctx, s, emit=False)]
        _emit_suggestions(ctx)
    call.state["retries"] = 0
    return call.wait()


async def take_answer(ctx, call: KeywordCall, question: Question):
    """The second half of HEAR: validate the answer, or complain and wait again."""
    text, attachments = _message_parts(call.resume)
    if question.has_default and text.strip().lower() in SKIP_ANSWERS:
        return _answered(ctx, call, question.default)
    if is_media_type(question.type_name) and not question.options:
        return await _media_answer(ctx, call, question, attachments)
    result = validate_input(question.type_name, text, options=question.options,
                            today=ctx.clock().date(), lang=ctx.session.language or "en")
    if result.ok:
        if result.secret is not None:
            await _keep_secret(ctx, call, result.secret)
        return _answered(ctx, call, result.value)
    return _retry(ctx, call, result.error)


def _retry(ctx, call: KeywordCall, error: str):
    retries = call.state.get("retries", 0) + 1
    call.state["retries"] = retries
    if retries >= ctx.limits.hear_retries:
        return _answered(ctx, call, "")  # give up: the script goes on with "" (§11 A-46)
    ctx.say(error)
    return call.wait()


def _answered(ctx, call: KeywordCall, value):
    """Remove the menu buttons this HEAR added; the value goes to the target."""
    menu = call.state.get("menu")
    if menu:
        ctx.session.suggestions = [s for s in ctx.session.suggestions if s not in menu]
        _emit_suggestions(ctx)
    return value


def _message_parts(message) -> tuple[str, list]:
    """The text and attachments of an inbound message (a string or a dict)."""
    if isinstance(message, dict):
        text = message.get("text", message.get("content")) or ""
        return to_str(text), list(message.get("attachments") or [])
    return to_str(message), []


async def _media_answer(ctx, call: KeywordCall, question: Question, attachments: list):
    if not attachments:
        return _retry(ctx, call, error_message(question.type_name, ctx.session.language or "en"))
    attachment = attachments[0]
    if question.type_name in ("FILE", "IMAGE"):
        fields = {k: attachment.get(k) for k in ("url", "name", "mime_type", "size", "path")}
        return _answered(ctx, call, FileValue(**fields))
    media = ctx.service("media")
    if media is None:
        raise BasicError(f"HEAR AS {question.type_name} is not available in this version")
    return _answered(ctx, call, await media.interpret(question.type_name, attachment))


async def _keep_secret(ctx, call: KeywordCall, secret: str) -> None:
    """Hand a password to the host only (never to variables, logs or events)."""
    secrets = ctx.service("secrets")
    if secrets is not None:
        await secrets.put(call.target or "", secret)


# ---------------------------------------------------------------- suggestions


def _suggestion(kind: str, text, **fields) -> dict:
    entry = {"kind": kind, "text": to_str(text), "context": None, "value": None, "tool": None}
    entry.update({k: (None if v is None else to_str(v)) for k, v in fields.items()})
    return entry


def _add_suggestion(ctx, entry: dict, emit: bool = True) -> bool:
    """Append unless an identical entry exists; True when added."""
    added = entry not in ctx.session.suggestions
    if added:
        ctx.session.suggestions.append(entry)
    if emit:
        _emit_suggestions(ctx)
    return added


def _emit_suggestions(ctx) -> None:
    ctx.emit({"type": "suggestions", "items": [dict(s) for s in ctx.session.suggestions]})


@keyword("ADD SUGGESTION", shapes=["x( AS x|,x)?"], connectors=["AS"], value=False)
async def add_suggestion(ctx, call: KeywordCall):
    """``"text"`` / ``"context" AS "text"`` / ``"text", "value"`` (§9.1.6)."""
    first = call.args[0].value
    second = call.args[1] if len(call.args) > 1 else None
    if second is None:
        entry = _suggestion("text_value", first, value=first)
    elif second.sep == "AS":
        entry = _suggestion("context", second.value, context=first)
    else:
        entry = _suggestion("text_value", first, value=second.value)
    _add_suggestion(ctx, entry)


@keyword("ADD SUGGESTION TEXT", shapes=["x( AS x)?"], connectors=["AS"], value=False)
async def add_suggestionto_str(ctx, call: KeywordCall):
    """``ADD SUGGESTION TEXT "value" AS "label"``: a button that sends ``value``."""
    value = call.args[0].value
    label = call.args[1].value if len(call.args) > 1 else value
    _add_suggestion(ctx, _suggestion("text_value", label, value=value))


@keyword("ADD SUGGESTION TOOL", shapes=["x( AS x)?"], connectors=["AS"], value=False)
async def add_suggestion_tool(ctx, call: KeywordCall):
    """``ADD SUGGESTION TOOL "tool" AS "label"``: a button that runs a tool directly."""
    tool = call.args[0].value
    label = call.args[1].value if len(call.args) > 1 else tool
    _add_suggestion(ctx, _suggestion("invoke_tool", label, tool=tool))


@keyword("CLEAR SUGGESTIONS", shapes=[""], value=False)
async def clear_suggestions(ctx, call: KeywordCall):
    """Remove every suggestion of the session (§9.1.7)."""
    ctx.session.suggestions = []
    _emit_suggestions(ctx)


# ---------------------------------------------------------------- contexts and prompts


@keyword("SET CONTEXT", shapes=["x( AS x|,x)?"], connectors=["AS"], value=False)
async def set_context(ctx, call: KeywordCall):
    """Named (``"name" AS text``) or unnamed (``text``) LLM context (§9.3.1)."""
    session = ctx.session
    if len(call.args) > 1:
        name = to_str(call.args[0].value)
        session.contexts[name] = to_str(call.args[1].value)[:CONTEXT_BUDGET]
        return
    text = to_str(call.args[0].value)
    if text in session.contexts:
        session.active_context = text  # SET_CONTEXT "name": select an existing context
    else:
        session.context = text[:CONTEXT_BUDGET]


@keyword("CLEAR CONTEXT", shapes=["(x)?"], value=False)
async def clear_context(ctx, call: KeywordCall):
    """Remove one named context, or all contexts."""
    session = ctx.session
    if call.args:
        name = to_str(call.args[0].value)
        session.contexts.pop(name, None)
        if session.active_context == name:
            session.active_context = None
        return
    session.contexts, session.context, session.active_context = {}, None, None


@keyword("BEGIN SYSTEM PROMPT", shapes=["x"], value=False, statement=False)
async def begin_system_prompt(ctx, call: KeywordCall):
    """The session system prompt, replaced by each block that runs (§9.3.2)."""
    ctx.session.system_prompt = to_str(call.args[0].value)


@keyword("BEGIN MAIL", shapes=["x,x"], value=False, statement=False)
async def begin_mail(ctx, call: KeywordCall):
    """An email whose first body line may be ``Subject: ...`` (§9.9.2)."""
    mail = ctx.service("mail")
    if mail is None:
        raise BasicError("BEGIN MAIL is not available in this version")
    recipient, text = to_str(call.values[0]), to_str(call.values[1])
    subject, body = _split_subject(text)
    await mail.send(recipient, subject, body)


def _split_subject(text: str) -> tuple[str, str]:
    first, _, rest = text.partition("\n")
    if first.lower().startswith("subject:"):
        return first[len("subject:"):].strip(), rest.lstrip("\n")
    return "", text
