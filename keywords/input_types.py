"""Validation and normalisation of HEAR answers (DIALECT §9.1.4).

``validate_input(type_name, text)`` checks one user message against a HEAR type and
returns an :class:`InputResult`: the normalised value (typed as §11 A-23 says: ``int``
for INTEGER, ``float`` for FLOAT/MONEY, ``bool`` for BOOLEAN, ``str`` otherwise) or a
short, friendly error message in English or Portuguese (§7.9). Media types are answered
with attachments, which the HEAR keyword handles; for a plain text they fail here.
"""
from __future__ import annotations

import datetime
import functools
import re
import unicodedata
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence
from urllib.parse import urlsplit

PASSWORD_PLACEHOLDER = "[PASSWORD SET]"


@dataclass(frozen=True)
class InputResult:
    """Outcome of validating one answer.

    ``secret`` carries a value that must never be echoed or logged (the real password);
    ``value`` then holds a placeholder.
    """

    ok: bool
    value: Any
    error: Optional[str]
    # Kept out of repr so that logging a result never leaks a password.
    secret: Optional[str] = field(default=None, repr=False)


def _accept(value: Any, secret: Optional[str] = None) -> InputResult:
    return InputResult(True, value, None, secret)


def _reject(error: str) -> InputResult:
    return InputResult(False, None, error)


# ---------------------------------------------------------------- type names

_ALIASES = {
    "STRING": "STRING", "TEXT": "STRING",
    "NAME": "NAME",
    "EMAIL": "EMAIL",
    "INTEGER": "INTEGER", "INT": "INTEGER", "NUMBER": "INTEGER",
    "FLOAT": "FLOAT", "DECIMAL": "FLOAT", "DOUBLE": "FLOAT",
    "MONEY": "MONEY", "CURRENCY": "MONEY", "AMOUNT": "MONEY",
    "BOOLEAN": "BOOLEAN", "BOOL": "BOOLEAN",
    "DATE": "DATE",
    "HOUR": "HOUR", "TIME": "HOUR",
    "MOBILE": "MOBILE", "PHONE": "MOBILE", "TELEPHONE": "MOBILE",
    "ZIPCODE": "ZIPCODE", "ZIP": "ZIPCODE", "CEP": "ZIPCODE", "POSTALCODE": "ZIPCODE",
    "LANGUAGE": "LANGUAGE", "LANG": "LANGUAGE",
    "CPF": "CPF",
    "CNPJ": "CNPJ",
    "URL": "URL", "LINK": "URL",
    "UUID": "UUID", "GUID": "UUID",
    "COLOR": "COLOR", "COLOUR": "COLOR",
    "CREDITCARD": "CREDITCARD", "CARD": "CREDITCARD",
    "PASSWORD": "PASSWORD", "PASS": "PASSWORD", "SECRET": "PASSWORD",
    "FILE": "FILE", "DOCUMENT": "FILE", "DOC": "FILE", "PDF": "FILE",
    "IMAGE": "IMAGE", "PHOTO": "IMAGE", "PICTURE": "IMAGE",
    "QRCODE": "QRCODE", "QR": "QRCODE",
    "AUDIO": "AUDIO", "VOICE": "AUDIO", "SOUND": "AUDIO",
    "VIDEO": "VIDEO",
    "LOGIN": "LOGIN", "AUTH": "LOGIN",
    "MENU": "MENU",
}

MEDIA_TYPES = frozenset({"FILE", "IMAGE", "QRCODE", "AUDIO", "VIDEO", "LOGIN"})


@functools.lru_cache(maxsize=256)  # a script names few types; every answer asks again
def canonical_type(word: str) -> str:
    """The canonical HEAR type for a written type word; unknown words mean ``STRING``.

    Case, spaces, ``_`` and ``-`` are ignored: ``credit_card`` -> ``CREDITCARD``.
    """
    key = re.sub(r"[\s_\-]+", "", str(word)).upper()
    return _ALIASES.get(key, "STRING")


def is_media_type(type_name: str) -> bool:
    """True for types answered with an attachment rather than with text."""
    return canonical_type(type_name) in MEDIA_TYPES


# ---------------------------------------------------------------- messages

_MESSAGES = {
    "NAME": ("Please enter a valid name.", "Por favor, informe um nome válido."),
    "EMAIL": ("Please enter a valid email address.", "Por favor, informe um e-mail válido."),
    "INTEGER": ("Please enter a whole number.", "Por favor, informe um número inteiro."),
    "FLOAT": ("Please enter a number.", "Por favor, informe um número."),
    "MONEY": ("Please enter a valid amount.", "Por favor, informe um valor válido."),
    "BOOLEAN": ("Please answer yes or no.", "Por favor, responda sim ou não."),
    "DATE": (
        "Please enter a valid date, for example 31/12/2025.",
        "Por favor, informe uma data válida, por exemplo 31/12/2025.",
    ),
    "HOUR": (
        "Please enter a valid time, for example 14:30.",
        "Por favor, informe um horário válido, por exemplo 14:30.",
    ),
    "MOBILE": ("Please enter a valid phone number.", "Por favor, informe um telefone válido."),
    "ZIPCODE": ("Please enter a valid postal code.", "Por favor, informe um CEP válido."),
    "LANGUAGE": ("Please enter a valid language.", "Por favor, informe um idioma válido."),
    "CPF": ("Please enter a valid CPF.", "Por favor, informe um CPF válido."),
    "CNPJ": ("Please enter a valid CNPJ.", "Por favor, informe um CNPJ válido."),
    "URL": ("Please enter a valid web address.", "Por favor, informe um endereço web válido."),
    "UUID": ("Please enter a valid UUID.", "Por favor, informe um UUID válido."),
    "COLOR": (
        "Please enter a valid colour, for example blue or #0000FF.",
        "Por favor, informe uma cor válida, por exemplo azul ou #0000FF.",
    ),
    "CREDITCARD": ("Please enter a valid card number.", "Por favor, informe um número de cartão válido."),
    "PASSWORD": (
        "The password must have at least 8 characters.",
        "A senha deve ter pelo menos 8 caracteres.",
    ),
    "FILE": (
        "This answer needs an attachment: please send a file.",
        "Esta resposta precisa de um anexo: por favor, envie um arquivo.",
    ),
    "IMAGE": (
        "This answer needs an attachment: please send an image.",
        "Esta resposta precisa de um anexo: por favor, envie uma imagem.",
    ),
    "QRCODE": (
        "This answer needs an attachment: please send a photo of the QR code.",
        "Esta resposta precisa de um anexo: por favor, envie uma foto do QR code.",
    ),
    "AUDIO": (
        "This answer needs an attachment: please send an audio message.",
        "Esta resposta precisa de um anexo: por favor, envie um áudio.",
    ),
    "VIDEO": (
        "This answer needs an attachment: please send a video.",
        "Esta resposta precisa de um anexo: por favor, envie um vídeo.",
    ),
    "LOGIN": (
        "This answer needs a login: please complete the sign-in.",
        "Esta resposta precisa de um login: por favor, conclua a autenticação.",
    ),
    "MENU": (
        "Please choose one of the options: {options}.",
        "Por favor, escolha uma das opções: {options}.",
    ),
}


def error_message(type_name: str, lang: str = "en", **details: str) -> str:
    """The friendly error text of a type, in Portuguese when ``lang`` starts with ``pt``."""
    english, portuguese = _MESSAGES[canonical_type(type_name)]
    text = portuguese if lang.lower().startswith("pt") else english
    return text.format(**details) if details else text


# ---------------------------------------------------------------- entry point


def validate_input(
    type_name: str,
    text: str,
    *,
    options: Optional[Sequence[Any]] = None,
    today: Optional[datetime.date] = None,
    lang: str = "en",
) -> InputResult:
    """Validate and normalise the answer ``text`` for the HEAR type ``type_name``.

    ``options`` makes it a menu question whatever the type word (``HEAR x AS "a", "b"``).
    ``today`` anchors ``today``/``tomorrow``/``yesterday`` for DATE (defaults to the
    current date). Error messages follow ``lang`` (English, or Portuguese for ``pt*``).
    """
    kind = canonical_type(type_name)
    if options is not None or kind == "MENU":
        return _validate_menu(text, list(options or ()), lang)
    if kind == "PASSWORD":
        return _validate_password(text.strip(), lang)
    value = _parse_text(kind, text.strip(), today or datetime.date.today())
    return _reject(error_message(kind, lang)) if value is None else _accept(value)


def _parse_text(kind: str, answer: str, today: datetime.date) -> Any:
    """The normalised value of a text answer; None when invalid or when it needs a media file."""
    if kind == "DATE":
        return parse_date(answer, today)
    parser = _TEXT_PARSERS.get(kind)  # media types have no text parser
    return None if parser is None else parser(answer)


# ---------------------------------------------------------------- menus


def _validate_menu(text: str, options: list[Any], lang: str) -> InputResult:
    choice = match_option(text, options)
    if choice is None:
        listed = ", ".join(str(option) for option in options)
        return _reject(error_message("MENU", lang, options=listed))
    return _accept(choice)


def match_option(text: str, options: Sequence[Any]) -> Optional[str]:
    """The option chosen by ``text``: exact (case-insensitive), 1-based number, or unique substring."""
    answer = text.strip().casefold()
    if not answer:
        return None
    labels = [str(option) for option in options]
    for label in labels:
        if label.strip().casefold() == answer:
            return label
    if answer.isdigit() and 1 <= int(answer) <= len(labels):
        return labels[int(answer) - 1]
    containing = [label for label in labels if answer in label.casefold()]
    return containing[0] if len(containing) == 1 else None


# ---------------------------------------------------------------- names and addresses

_NAME_CHARS = re.compile(r"[^\W\d_]+(?:[ '\-’][^\W\d_]+)*")
_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}"
)


def parse_name(text: str) -> Optional[str]:
    """A person's name with each word capitalised; letters, spaces, ``-`` and ``'`` only."""
    name = " ".join(text.split())
    if not 2 <= len(name) <= 100 or not _NAME_CHARS.fullmatch(name):
        return None
    return name.title()


def parse_email(text: str) -> Optional[str]:
    """A lower-cased e-mail address, or None."""
    address = text.strip().lower()
    return address if _EMAIL.fullmatch(address) else None


_HOST = re.compile(
    r"(?:localhost|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}|\d{1,3}(?:\.\d{1,3}){3})"
    r"(?::\d{1,5})?",
    re.IGNORECASE,
)


def parse_url(text: str) -> Optional[str]:
    """A web address; ``https://`` is added when the scheme is missing."""
    url = text.strip()
    if not url or any(char.isspace() for char in url):
        return None
    if not re.match(r"[a-z][a-z0-9+.\-]*://", url, re.IGNORECASE):
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https", "ftp") or not _HOST.fullmatch(parts.netloc.rsplit("@", 1)[-1]):
        return None
    return url


def parse_uuid(text: str) -> Optional[str]:
    """The canonical lower-case form of a UUID, or None."""
    try:
        return str(uuid.UUID(text.strip()))
    except ValueError:
        return None


# ---------------------------------------------------------------- numbers

_GROUPED_INTEGER = re.compile(r"[+-]?\d{1,3}(?:[., ]\d{3})+")
_PLAIN_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)*)")
_CURRENCY_MARKS = re.compile(r"(?i)r\$|us\$|\$|€|£|¥|\b(?:brl|usd|eur|gbp|reais|real|dollars?)\b")


def parse_integer(text: str) -> Optional[int]:
    """An integer; ``,`` ``.`` and spaces are accepted as thousands separators (``1,234``)."""
    compact = text.strip()
    if _PLAIN_INTEGER.fullmatch(compact) or _GROUPED_INTEGER.fullmatch(compact):
        return int(re.sub(r"[., ]", "", compact))
    return None


def parse_decimal(text: str) -> Optional[float]:
    """A number whose decimal separator is the last ``.`` or ``,`` (``1.234,56`` -> 1234.56).

    A separator that occurs several times with no other separator is a thousands
    separator (``1.234.567`` -> 1234567).
    """
    compact = re.sub(r"\s+", "", text)
    if not _DECIMAL_TEXT.fullmatch(compact):
        return None
    separators = [char for char in compact if char in ".,"]
    if not separators:
        return float(compact)
    decimal = separators[-1]
    if separators.count(decimal) > 1 and len(set(separators)) == 1:
        return float(compact.replace(decimal, ""))
    whole, _, fraction = compact.rpartition(decimal)
    if decimal in whole:
        return None  # "1.234.5" mixes the same mark as grouping and decimal point
    return float(re.sub(r"[.,]", "", whole) + "." + fraction)


def parse_money(text: str) -> Optional[float]:
    """A non-negative amount, currency marks allowed, rounded to cents.

    Amounts have at most two decimals, so one separator followed by exactly three
    digits groups thousands: ``$1,234`` is 1234.0, not 1.234.
    """
    compact = re.sub(r"\s+", "", _CURRENCY_MARKS.sub("", text))
    if re.fullmatch(r"\+?[1-9]\d{0,2}[.,]\d{3}", compact):
        compact = re.sub(r"[.,]", "", compact)
    amount = parse_decimal(compact)
    if amount is None or amount < 0:
        return None
    return round(amount, 2)


_TRUE_WORDS = frozenset(
    "yes y true 1 sim s si sí oui ja da ok okay yeah yep sure confirm confirmed accept agreed agree".split()
)
_FALSE_WORDS = frozenset(
    "no n false 0 não nao non nein net nope cancel deny denied reject declined disagree".split()
)


def parse_boolean(text: str) -> Optional[bool]:
    """True/False from yes/no words in English, Portuguese, Spanish, French, German, Russian."""
    word = text.strip().casefold().rstrip("!.")
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    return None


# ---------------------------------------------------------------- dates and times

_RELATIVE_DAYS = {
    "today": 0, "hoje": 0,
    "tomorrow": 1, "amanhã": 1, "amanha": 1,
    "yesterday": -1, "ontem": -1,
}
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            "jan january janeiro", "feb february fev fevereiro", "mar march março marco",
            "apr april abr abril", "may maio mai", "jun june junho", "jul july julho",
            "aug august ago agosto", "sep sept september set setembro",
            "oct october out outubro", "nov november novembro", "dec december dez dezembro",
        ],
        start=1,
    )
    for name in names.split()
}
_ISO_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_NUMERIC_DATE = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4})")
_NAMED_DATE = re.compile(r"(\d{1,2})\s+(?:de\s+)?([^\W\d_]+)\.?,?\s+(?:de\s+)?(\d{4})")


def parse_date(text: str, today: datetime.date) -> Optional[str]:
    """A date as ``YYYY-MM-DD``; day-first numeric forms, ISO, month names, relative words."""
    answer = text.strip().casefold()
    if answer in _RELATIVE_DAYS:
        return (today + datetime.timedelta(days=_RELATIVE_DAYS[answer])).isoformat()
    for parser in (_iso_date, _numeric_date, _named_date):
        found = parser(answer)
        if found is not None:
            return found.isoformat()
    return None


def _make_date(year: int, month: int, day: int) -> Optional[datetime.date]:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _iso_date(answer: str) -> Optional[datetime.date]:
    match = _ISO_DATE.fullmatch(answer)
    return match and _make_date(int(match[1]), int(match[2]), int(match[3]))


def _numeric_date(answer: str) -> Optional[datetime.date]:
    """``dd/mm/yyyy`` first; ``mm/dd/yyyy`` only when the day-first reading is impossible."""
    match = _NUMERIC_DATE.fullmatch(answer)
    if not match:
        return None
    first, second, year = int(match[1]), int(match[3]), int(match[4])
    return _make_date(year, second, first) or _make_date(year, first, second)


def _named_date(answer: str) -> Optional[datetime.date]:
    match = _NAMED_DATE.fullmatch(answer)
    month = match and _MONTHS.get(match[2])
    return month and _make_date(int(match[3]), month, int(match[1]))


_CLOCK = re.compile(r"(\d{1,2})(?:[:h](\d{2})|h)?")
_CLOCK_12H = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\.?")


def parse_hour(text: str) -> Optional[str]:
    """A time of day as ``HH:MM``: 24-hour ``14:30``/``14h30`` or 12-hour ``2:30 pm``."""
    answer = text.strip().casefold()
    match = _CLOCK_12H.fullmatch(answer)
    if match:
        return _twelve_hour(int(match[1]), int(match[2] or 0), match[3] == "p")
    match = _CLOCK.fullmatch(answer)
    if match and (match[2] is not None or answer.endswith("h")):
        return _clock_text(int(match[1]), int(match[2] or 0))
    return None


def _twelve_hour(hour: int, minute: int, afternoon: bool) -> Optional[str]:
    if not 1 <= hour <= 12:
        return None
    return _clock_text(hour % 12 + (12 if afternoon else 0), minute)


def _clock_text(hour: int, minute: int) -> Optional[str]:
    if 0 <= hour <= 23 and 0 <= minute <= 59:
        return f"{hour:02d}:{minute:02d}"
    return None


# ---------------------------------------------------------------- phones and postal codes

_PHONE_CHARS = re.compile(r"\+?[\d\s().\-]+")


def parse_mobile(text: str) -> Optional[str]:
    """A phone number of 10–15 digits, formatted for 10/11 digits, else ``+digits``."""
    answer = text.strip()
    if not _PHONE_CHARS.fullmatch(answer):
        return None
    digits = re.sub(r"\D", "", answer)
    if len(digits) == 11:
        return f"({digits[:2]}) {digits[2:7]}-{digits[7:]}"
    if len(digits) == 10:
        return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"
    return f"+{digits}" if 10 <= len(digits) <= 15 else None


_UK_POSTCODE = re.compile(r"([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})")


def parse_zipcode(text: str) -> Optional[str]:
    """A Brazilian CEP (``NNNNN-NNN``), US ZIP (``NNNNN``/``NNNNN-NNNN``) or UK postcode."""
    answer = text.strip().upper()
    if re.fullmatch(r"[\d\s.\-]+", answer):
        return _numeric_zipcode(re.sub(r"\D", "", answer))
    match = _UK_POSTCODE.fullmatch(answer)
    return f"{match[1]} {match[2]}" if match else None


def _numeric_zipcode(digits: str) -> Optional[str]:
    """8 digits: Brazilian CEP; 5 or 9 digits: US ZIP (ZIP+4)."""
    if len(digits) in (8, 9):
        return f"{digits[:5]}-{digits[5:]}"
    return digits if len(digits) == 5 else None


# ---------------------------------------------------------------- Brazilian documents


def parse_cpf(text: str) -> Optional[str]:
    """A CPF with valid check digits, formatted ``NNN.NNN.NNN-NN``."""
    digits = _document_digits(text, 11)
    if digits is None or not _check_digits_ok(digits, _cpf_check_digit):
        return None
    return f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}"


def parse_cnpj(text: str) -> Optional[str]:
    """A CNPJ with valid check digits, formatted ``NN.NNN.NNN/NNNN-NN``."""
    digits = _document_digits(text, 14)
    if digits is None or not _check_digits_ok(digits, _cnpj_check_digit):
        return None
    return f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/{digits[8:12]}-{digits[12:]}"


def _document_digits(text: str, length: int) -> Optional[str]:
    """The digits of a document number written with optional ``.``, ``-``, ``/``, spaces.

    Numbers made of one repeated digit pass the check-digit test but are never issued.
    """
    answer = text.strip()
    if not re.fullmatch(r"[\d\s./\-]+", answer):
        return None
    digits = re.sub(r"\D", "", answer)
    if len(digits) != length or len(set(digits)) == 1:
        return None
    return digits


def _check_digits_ok(digits: str, check_digit: Callable[[str], int]) -> bool:
    """The last two digits are the check digits computed over the digits before each."""
    body = digits[:-2]
    first = check_digit(body)
    second = check_digit(body + str(first))
    return digits[-2:] == f"{first}{second}"


def _cpf_check_digit(body: str) -> int:
    weights = range(len(body) + 1, 1, -1)
    remainder = sum(int(d) * w for d, w in zip(body, weights)) * 10 % 11
    return 0 if remainder == 10 else remainder


def _cnpj_check_digit(body: str) -> int:
    weights = [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2][-len(body):]
    remainder = sum(int(d) * w for d, w in zip(body, weights)) % 11
    return 0 if remainder < 2 else 11 - remainder


# ---------------------------------------------------------------- cards and passwords


def parse_credit_card(text: str) -> Optional[str]:
    """A masked card number (``NNNN **** **** NNNN``) when 13–19 digits pass Luhn."""
    answer = text.strip()
    if not re.fullmatch(r"[\d\s\-]+", answer):
        return None
    digits = re.sub(r"\D", "", answer)
    if not 13 <= len(digits) <= 19 or not luhn_ok(digits):
        return None
    return f"{digits[:4]} **** **** {digits[-4:]}"


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of a digit string is valid."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char) * (2 if position % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _validate_password(answer: str, lang: str) -> InputResult:
    """Passwords are kept out of variables: the value is a placeholder, the secret aside."""
    if len(answer) < 8:
        return _reject(error_message("PASSWORD", lang))
    return _accept(PASSWORD_PLACEHOLDER, secret=answer)


# ---------------------------------------------------------------- colours

_COLOR_NAMES = {
    "black": "000000", "white": "FFFFFF", "red": "FF0000", "lime": "00FF00",
    "green": "008000", "blue": "0000FF", "yellow": "FFFF00", "cyan": "00FFFF",
    "aqua": "00FFFF", "magenta": "FF00FF", "fuchsia": "FF00FF", "silver": "C0C0C0",
    "gray": "808080", "grey": "808080", "maroon": "800000", "olive": "808000",
    "purple": "800080", "teal": "008080", "navy": "000080", "orange": "FFA500",
    "pink": "FFC0CB", "brown": "A52A2A", "gold": "FFD700", "indigo": "4B0082",
    "violet": "EE82EE", "beige": "F5F5DC", "turquoise": "40E0D0", "coral": "FF7F50",
    "salmon": "FA8072", "khaki": "F0E68C", "crimson": "DC143C", "lavender": "E6E6FA",
    "darkblue": "00008B", "darkgreen": "006400", "darkred": "8B0000", "darkgray": "A9A9A9",
    "darkgrey": "A9A9A9", "lightblue": "ADD8E6", "lightgreen": "90EE90",
    "lightgray": "D3D3D3", "lightgrey": "D3D3D3", "skyblue": "87CEEB",
    # Portuguese and Spanish names: the corpus bots talk to Brazilian users.
    "preto": "000000", "branco": "FFFFFF", "vermelho": "FF0000", "verde": "008000",
    "azul": "0000FF", "amarelo": "FFFF00", "cinza": "808080", "laranja": "FFA500",
    "roxo": "800080", "rosa": "FFC0CB", "marrom": "A52A2A", "dourado": "FFD700",
    "prateado": "C0C0C0", "negro": "000000", "blanco": "FFFFFF", "rojo": "FF0000",
    "amarillo": "FFFF00", "gris": "808080", "naranja": "FFA500", "morado": "800080",
}
_HEX_COLOR = re.compile(r"#([0-9a-f]{3}|[0-9a-f]{6})")
_RGB_COLOR = re.compile(r"rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)")


def parse_color(text: str) -> Optional[str]:
    """A colour as ``#RRGGBB`` from a name, ``#rgb``, ``#rrggbb`` or ``rgb(r, g, b)``."""
    answer = text.strip().casefold()
    name = re.sub(r"[\s_\-]+", "", answer)
    if name in _COLOR_NAMES:
        return "#" + _COLOR_NAMES[name]
    match = _HEX_COLOR.fullmatch(answer)
    if match:
        digits = match[1] if len(match[1]) == 6 else "".join(c * 2 for c in match[1])
        return "#" + digits.upper()
    return _rgb_color(answer)


def _rgb_color(answer: str) -> Optional[str]:
    match = _RGB_COLOR.fullmatch(answer)
    if not match or any(int(part) > 255 for part in match.groups()):
        return None
    return "#" + "".join(f"{int(part):02X}" for part in match.groups())


# ---------------------------------------------------------------- languages

_ISO_639_1 = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi
    ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks
    ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl
    nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl
    sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve
    vi vo wa wo xh yi yo za zh zu""".split()
)
# Names in English, Portuguese and Spanish (written without accents; see _fold).
_LANGUAGE_NAMES = {
    "en": "english ingles", "pt": "portuguese portugues", "es": "spanish espanhol espanol castellano",
    "fr": "french frances", "de": "german alemao aleman", "it": "italian italiano",
    "nl": "dutch holandes neerlandes", "ru": "russian russo ruso", "zh": "chinese chines chino mandarin",
    "ja": "japanese japones", "ko": "korean coreano", "ar": "arabic arabe", "hi": "hindi",
    "he": "hebrew hebraico hebreo", "tr": "turkish turco", "pl": "polish polones polaco",
    "sv": "swedish sueco", "no": "norwegian noruegues noruego", "da": "danish dinamarques danes",
    "fi": "finnish finlandes", "el": "greek grego griego", "cs": "czech tcheco checo",
    "ro": "romanian romeno rumano", "hu": "hungarian hungaro", "uk": "ukrainian ucraniano",
    "id": "indonesian indonesio", "ms": "malay malaio malayo", "th": "thai tailandes",
    "vi": "vietnamese vietnamita", "fa": "persian farsi persa", "ca": "catalan catalao",
    "gl": "galician galego gallego", "eu": "basque basco vasco euskera", "la": "latin latim latin",
    "bn": "bengali", "ur": "urdu", "sw": "swahili suaili suajili", "tl": "tagalog",
}
_LANGUAGE_BY_NAME = {name: code for code, names in _LANGUAGE_NAMES.items() for name in names.split()}


def parse_language(text: str) -> Optional[str]:
    """A 2-letter ISO 639-1 code from a code, a locale (``pt-BR``) or a name in en/pt/es."""
    answer = _fold(text.strip())
    code = re.fullmatch(r"([a-z]{2})(?:[-_][a-z]{2,4})?", answer)
    if code and code[1] in _ISO_639_1:
        return code[1]
    return _LANGUAGE_BY_NAME.get(answer)


def _fold(text: str) -> str:
    """Lower case without accents: ``Português`` -> ``portugues``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


_TEXT_PARSERS: dict[str, Callable[[str], Any]] = {
    "STRING": lambda answer: answer,
    "NAME": parse_name,
    "EMAIL": parse_email,
    "INTEGER": parse_integer,
    "FLOAT": parse_decimal,
    "MONEY": parse_money,
    "BOOLEAN": parse_boolean,
    "HOUR": parse_hour,
    "MOBILE": parse_mobile,
    "ZIPCODE": parse_zipcode,
    "LANGUAGE": parse_language,
    "CPF": parse_cpf,
    "CNPJ": parse_cnpj,
    "URL": parse_url,
    "UUID": parse_uuid,
    "COLOR": parse_color,
    "CREDITCARD": parse_credit_card,
}
