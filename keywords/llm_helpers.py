"""The LLM helper keywords of DIALECT §9.3.6: thin one-shot prompts.

Each helper builds one short request, sends it like ``LLM`` does (same system message,
same model choice, no history; ``llm.ask_model``) and shapes the answer:

| keyword | returns |
|---|---|
| ``SUMMARIZE text`` | the summary |
| ``TRANSLATE text, language`` | the translation |
| ``CLASSIFY text, categories`` | ``{category, confidence}`` |
| ``SENTIMENT text`` | ``{overall, label, score, escalation_risk}`` |
| ``ANALYZE SENTIMENT [sid,] text`` / ``... FROM x`` | the same |
| ``IMPROVE TEXT text [WITH TONE tone]`` | the improved text |
| ``REWRITE instructions`` | the text the instructions ask for |
| ``CALCULATE expression[, data]`` | a number when the answer is one, else the text |
| ``VALIDATE value, rule`` | ``{valid, message}`` |
| ``GENERATE CODE spec`` | the code, without a Markdown fence |

Sentiment ``score`` runs from 0 (negative) to 1 (positive): templates print it as a
percentage and test ``score < 0.3``.

The JSON-returning helpers ask for JSON only and parse the answer (a code fence or words
around the object are tolerated); an answer holding no JSON object is a trappable error.
Values that are not text (arrays, objects) are embedded in the prompts as JSON.
"""
from __future__ import annotations

import re

from ..runtime.errors import BasicError
from ..runtime.values import BasicObject, from_json, parse_number, to_str
from .calls import KeywordCall
from .llm import ask_model
from .registry import keyword

_FENCED = re.compile(r"^\s*```[\w.+-]*[ \t]*\n(?P<body>.*?)\n?\s*```\s*$", re.DOTALL)


# ---------------------------------------------------------------- prompts


def summarize_prompt(text: str) -> str:
    return f"Summarize the text below in a few sentences. Reply with the summary only.\n\n{text}"


def translate_prompt(text: str, language: str) -> str:
    return (f"Translate the text below into {language}. Reply with the translation only."
            f"\n\n{text}")


def classify_prompt(text: str, categories: str) -> str:
    return (f"Classify the text below into exactly one of these categories: {categories}.\n"
            'Reply with JSON only: {"category": "<one of the categories>", '
            '"confidence": <a number from 0 to 1>}.'
            f"\n\nText:\n{text}")


def sentiment_prompt(text: str) -> str:
    return ("Analyze the sentiment of the text below. Reply with JSON only: "
            '{"overall": "positive" | "neutral" | "negative", '
            '"score": <a number from 0 (very negative) to 1 (very positive)>, '
            '"escalation_risk": "low" | "medium" | "high"}.'
            f"\n\nText:\n{text}")


def improve_prompt(text: str, tone: str = "") -> str:
    manner = f", in a {tone} tone" if tone else ""
    return ("Improve the text below: correct grammar and spelling and make it clearer"
            f"{manner}, keeping its meaning and language. Reply with the improved text only."
            f"\n\n{text}")


def rewrite_prompt(instructions: str) -> str:
    return ("Write the text these instructions ask for. Reply with that text only."
            f"\n\nInstructions:\n{instructions}")


def calculate_prompt(expression: str, data: str = "") -> str:
    prompt = ("Calculate the following. Reply with the result only, without explanation "
              f"or units.\n\nCalculation: {expression}")
    return prompt + (f"\n\nData:\n{data}" if data else "")


def validate_prompt(value: str, rule: str) -> str:
    return ("Check whether the value below satisfies the rule. Reply with JSON only: "
            '{"valid": true | false, "message": "<the reason, in one short sentence>"}.'
            f"\n\nRule: {rule}\nValue: {value}")


def generate_code_prompt(spec: str) -> str:
    return ("Write code for the specification below. Reply with the code only, without "
            f"Markdown fences or explanation.\n\n{spec}")


# ---------------------------------------------------------------- answers


def answer_object(answer: str, keyword_name: str) -> BasicObject:
    """The JSON object in a model's answer (fenced, or with words around it)."""
    for candidate in (answer, _outer_braces(answer)):
        if candidate:
            try:
                parsed = from_json(candidate)
            except BasicError:
                continue
            if isinstance(parsed, BasicObject):
                return parsed
    raise BasicError(f"model error: {keyword_name} expected a JSON object, "
                     f"the model answered: {answer.strip()[:120]}")


def _outer_braces(text: str) -> str:
    start, end = text.find("{"), text.rfind("}")
    return text[start:end + 1] if 0 <= start < end else ""


def without_fence(answer: str) -> str:
    """The answer with a Markdown code fence around it removed."""
    match = _FENCED.match(answer)
    return match["body"] if match else answer.strip()


def _boolean(value):
    """``"true"``/``"false"`` written as strings by a careless model become booleans."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


# ---------------------------------------------------------------- keywords


@keyword("SUMMARIZE", shapes=["x"])
async def summarize(ctx, call: KeywordCall):
    """``x = SUMMARIZE text`` (§9.3.6)."""
    return await ask_model(ctx, summarize_prompt(to_str(call.values[0])))


@keyword("TRANSLATE", shapes=["x,x"])
async def translate(ctx, call: KeywordCall):
    """``x = TRANSLATE text, "pt"`` (§9.3.6)."""
    text, language = (to_str(v) for v in call.values[:2])
    return await ask_model(ctx, translate_prompt(text, language))


@keyword("CLASSIFY", shapes=["x,x"])
async def classify(ctx, call: KeywordCall):
    """``x = CLASSIFY text, categories`` -> ``{category, confidence}`` (§9.3.6)."""
    text, categories = (to_str(v) for v in call.values[:2])
    answer = await ask_model(ctx, classify_prompt(text, categories))
    return answer_object(answer, "CLASSIFY")


async def _sentiment(ctx, text) -> BasicObject:
    answer = await ask_model(ctx, sentiment_prompt(to_str(text)))
    result = answer_object(answer, "SENTIMENT")
    if not result.has("label") and result.has("overall"):
        result.assign("label", result.lookup("overall"))  # employee-engage reads .label
    return result


@keyword("SENTIMENT", shapes=["x"])
async def sentiment(ctx, call: KeywordCall):
    """``x = SENTIMENT text`` -> ``{overall, label, score, escalation_risk}`` (§9.3.6)."""
    return await _sentiment(ctx, call.values[0])


@keyword("ANALYZE SENTIMENT", shapes=["x(,x)?", "FROM x"], connectors=["FROM"])
async def analyze_sentiment(ctx, call: KeywordCall):
    """``ANALYZE SENTIMENT session_id, text`` / ``ANALYZE SENTIMENT FROM answers``: the
    text is the last argument (the session id only tells whose conversation it was)."""
    return await _sentiment(ctx, call.values[-1])


@keyword("IMPROVE TEXT", shapes=["x( WITH TONE x)?"], connectors=["WITH TONE"])
async def improve_text(ctx, call: KeywordCall):
    """``x = IMPROVE TEXT text [WITH TONE "friendly"]`` (§9.3.6)."""
    tone = next((to_str(a.value) for a in call.args if a.sep == "WITH TONE"), "")
    return await ask_model(ctx, improve_prompt(to_str(call.values[0]), tone.strip()))


@keyword("REWRITE", shapes=["x"])
async def rewrite(ctx, call: KeywordCall):
    """``x = REWRITE "instructions with ${vars}"`` (§9.3.6)."""
    return await ask_model(ctx, rewrite_prompt(to_str(call.values[0])))


@keyword("CALCULATE", shapes=["x(,x)?"])
async def calculate(ctx, call: KeywordCall):
    """``x = CALCULATE "expression"[, data]``: a number when the model answers one."""
    values = call.values
    data = to_str(values[1]) if len(values) > 1 else ""
    answer = (await ask_model(ctx, calculate_prompt(to_str(values[0]), data))).strip()
    number = parse_number(answer) if answer else None
    return answer if number is None else number


@keyword("VALIDATE", shapes=["x,x"])
async def validate(ctx, call: KeywordCall):
    """``x = VALIDATE value, rule`` -> ``{valid, message}`` (§9.3.6)."""
    value, rule = (to_str(v) for v in call.values[:2])
    result = answer_object(await ask_model(ctx, validate_prompt(value, rule)), "VALIDATE")
    if result.has("valid"):
        result.assign("valid", _boolean(result.lookup("valid")))
    return result


@keyword("GENERATE CODE", shapes=["x"])
async def generate_code(ctx, call: KeywordCall):
    """``x = GENERATE CODE "spec"`` -> the code text (§9.3.6)."""
    return without_fence(await ask_model(ctx, generate_code_prompt(to_str(call.values[0]))))
