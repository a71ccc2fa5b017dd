"""HEAR answer validation (DIALECT §9.1.4): one golden table per input type."""
import datetime

import pytest

from botbasic.keywords.input_types import (
    PASSWORD_PLACEHOLDER,
    InputResult,
    canonical_type,
    validate_input,
)

TODAY = datetime.date(2025, 1, 31)


def accepted(type_name, text, **options):
    result = validate_input(type_name, text, today=TODAY, **options)
    assert result.ok and result.error is None, result
    return result.value


def rejected(type_name, text, **options):
    result = validate_input(type_name, text, today=TODAY, **options)
    assert not result.ok and result.value is None and result.error, result
    return result.error


# ---------------------------------------------------------------- type names


@pytest.mark.parametrize(
    "word, canonical",
    [
        ("string", "STRING"), ("TEXT", "STRING"), ("whatever", "STRING"), ("", "STRING"),
        ("int", "INTEGER"), ("Number", "INTEGER"), ("decimal", "FLOAT"), ("DOUBLE", "FLOAT"),
        ("currency", "MONEY"), ("amount", "MONEY"), ("bool", "BOOLEAN"), ("time", "HOUR"),
        ("phone", "MOBILE"), ("TELEPHONE", "MOBILE"), ("zip", "ZIPCODE"), ("cep", "ZIPCODE"),
        ("postalcode", "ZIPCODE"), ("POSTAL_CODE", "ZIPCODE"), ("lang", "LANGUAGE"),
        ("link", "URL"), ("guid", "UUID"), ("colour", "COLOR"), ("card", "CREDITCARD"),
        ("credit_card", "CREDITCARD"), ("pass", "PASSWORD"), ("secret", "PASSWORD"),
        ("document", "FILE"), ("doc", "FILE"), ("pdf", "FILE"), ("photo", "IMAGE"),
        ("picture", "IMAGE"), ("qr", "QRCODE"), ("voice", "AUDIO"), ("sound", "AUDIO"),
        ("video", "VIDEO"), ("auth", "LOGIN"), ("menu", "MENU"), (" email ", "EMAIL"),
        ("cpf", "CPF"), ("CNPJ", "CNPJ"), ("name", "NAME"), ("date", "DATE"),
    ],
)
def test_canonical_type(word, canonical):
    assert canonical_type(word) == canonical


# ---------------------------------------------------------------- text types


@pytest.mark.parametrize(
    "type_name, text, value",
    [
        ("STRING", "  hello world  ", "hello world"),
        ("TEXT", "", ""),
        ("UNKNOWNWORD", " anything at all 123 ", "anything at all 123"),
        ("NAME", "john doe", "John Doe"),
        ("NAME", "  MARIA   da  SILVA ", "Maria Da Silva"),
        ("NAME", "mary-jane o'neil", "Mary-Jane O'Neil"),
        ("NAME", "joão", "João"),
        ("EMAIL", " John.Doe@Example.COM ", "john.doe@example.com"),
        ("EMAIL", "a+tag@sub.domain.com.br", "a+tag@sub.domain.com.br"),
        ("INTEGER", "42", 42),
        ("INTEGER", "-7", -7),
        ("INTEGER", "1,234", 1234),
        ("INTEGER", "1.234.567", 1234567),
        ("INTEGER", "1 000", 1000),
        ("NUMBER", " 5 ", 5),
        ("FLOAT", "3.14", 3.14),
        ("FLOAT", "3,14", 3.14),
        ("FLOAT", "-0,5", -0.5),
        ("FLOAT", "10", 10.0),
        ("FLOAT", "1,234.5", 1234.5),
        ("FLOAT", "1.234,5", 1234.5),
        ("DOUBLE", "1.234.567", 1234567.0),
        ("MONEY", "100", 100.0),
        ("MONEY", "1,234.56", 1234.56),
        ("MONEY", "R$ 1.234,56", 1234.56),
        ("MONEY", "$100", 100.0),
        ("MONEY", "$1,234", 1234.0),
        ("MONEY", "12,5", 12.5),
        ("MONEY", "9.999", 9999.0),
        ("MONEY", "0.129", 0.13),
        ("MONEY", "0,500", 0.5),
        ("CURRENCY", "€ 15,00", 15.0),
        ("AMOUNT", "50 USD", 50.0),
        ("URL", "example.com", "https://example.com"),
        ("URL", "http://example.com/a?b=c", "http://example.com/a?b=c"),
        ("LINK", "www.site.com.br/page", "https://www.site.com.br/page"),
        ("URL", "localhost:8080/x", "https://localhost:8080/x"),
        ("UUID", "123E4567-E89B-12D3-A456-426614174000", "123e4567-e89b-12d3-a456-426614174000"),
        ("GUID", "{123e4567-e89b-12d3-a456-426614174000}", "123e4567-e89b-12d3-a456-426614174000"),
    ],
)
def test_valid_text_answers(type_name, text, value):
    result = accepted(type_name, text)
    assert result == value and type(result) is type(value)


@pytest.mark.parametrize(
    "type_name, text",
    [
        ("NAME", "J"), ("NAME", "John3"), ("NAME", "john@doe"), ("NAME", "x" * 101), ("NAME", ""),
        ("EMAIL", "john"), ("EMAIL", "john@"), ("EMAIL", "john@doe"), ("EMAIL", "a b@c.com"),
        ("EMAIL", "a..b@c.com"),
        ("INTEGER", "12.5"), ("INTEGER", "abc"), ("INTEGER", ""), ("INTEGER", "1,23"),
        ("INTEGER", "3 apples"),
        ("FLOAT", "1.2.3,4.5"), ("FLOAT", "abc"), ("FLOAT", ""), ("FLOAT", "1,,2"), ("FLOAT", "."),
        ("MONEY", "-5"), ("MONEY", "R$ -5"), ("MONEY", "ten dollars"), ("MONEY", ""),
        ("URL", "hello"), ("URL", "not a url"), ("URL", "javascript:alert(1)"), ("URL", ""),
        ("UUID", "123"), ("UUID", "zzzzzzzz-e89b-12d3-a456-426614174000"),
    ],
)
def test_invalid_text_answers(type_name, text):
    rejected(type_name, text)


# ---------------------------------------------------------------- booleans


@pytest.mark.parametrize(
    "text",
    "yes y true 1 sim s si oui ja da ok yeah yep sure confirm confirmed accept agreed agree".split()
    + ["YES", " Sim ", "Ok!", "sí"],
)
def test_boolean_true_words(text):
    assert accepted("BOOLEAN", text) is True


@pytest.mark.parametrize(
    "text",
    "no n false 0 não nao non nein net nope cancel deny denied reject declined disagree".split()
    + ["NO", " Não ", "nope."],
)
def test_boolean_false_words(text):
    assert accepted("BOOL", text) is False


@pytest.mark.parametrize("text", ["maybe", "", "yes please", "2"])
def test_boolean_rejections(text):
    assert rejected("BOOLEAN", text) == "Please answer yes or no."


# ---------------------------------------------------------------- dates and times


@pytest.mark.parametrize(
    "text, value",
    [
        ("25/12/2025", "2025-12-25"),
        ("5/1/2025", "2025-01-05"),
        ("25-12-2025", "2025-12-25"),
        ("25.12.2025", "2025-12-25"),
        ("2025-12-25", "2025-12-25"),
        ("2025/2/3", "2025-02-03"),
        ("12/31/2025", "2025-12-31"),
        ("25 Dec 2025", "2025-12-25"),
        ("25 December 2025", "2025-12-25"),
        ("3 fev 2025", "2025-02-03"),
        ("1 de janeiro de 2026", "2026-01-01"),
        ("today", "2025-01-31"),
        ("Hoje", "2025-01-31"),
        ("tomorrow", "2025-02-01"),
        ("amanhã", "2025-02-01"),
        ("amanha", "2025-02-01"),
        ("yesterday", "2025-01-30"),
        ("ontem", "2025-01-30"),
    ],
)
def test_dates(text, value):
    assert accepted("DATE", text) == value


@pytest.mark.parametrize("text", ["31/02/2025", "2025-13-01", "32/01/2025", "25/12", "someday", "25 Foo 2025", ""])
def test_invalid_dates(text):
    rejected("DATE", text)


def test_date_defaults_to_the_real_today():
    result = validate_input("DATE", "today")
    assert result.value == datetime.date.today().isoformat()


@pytest.mark.parametrize(
    "text, value",
    [
        ("14:30", "14:30"), ("9:05", "09:05"), ("00:00", "00:00"), ("23:59", "23:59"),
        ("2:30 pm", "14:30"), ("2:30PM", "14:30"), ("9am", "09:00"), ("12am", "00:00"),
        ("12 pm", "12:00"), ("11:15 p.m.", "23:15"), ("14h30", "14:30"), ("8h", "08:00"),
    ],
)
def test_hours(text, value):
    assert accepted("HOUR", text) == value
    assert accepted("TIME", text) == value


@pytest.mark.parametrize("text", ["24:00", "12:60", "13pm", "0am", "14", "noonish", ""])
def test_invalid_hours(text):
    rejected("HOUR", text)


# ---------------------------------------------------------------- phones, postal codes


@pytest.mark.parametrize(
    "text, value",
    [
        ("21999998888", "(21) 99999-8888"),
        ("(21) 99999-8888", "(21) 99999-8888"),
        ("212 555 1234", "(212) 555-1234"),
        ("+55 21 99999-8888", "+5521999998888"),
        ("+44 20 7946 0958", "+442079460958"),
        ("123456789012345", "+123456789012345"),
    ],
)
def test_mobiles(text, value):
    assert accepted("MOBILE", text) == value


@pytest.mark.parametrize("text", ["12345", "1234567890123456", "call 21999998888", ""])
def test_invalid_mobiles(text):
    rejected("PHONE", text)


@pytest.mark.parametrize(
    "text, value",
    [
        ("01310-100", "01310-100"), ("01310100", "01310-100"), ("01.310-100", "01310-100"),
        ("90210", "90210"), ("90210-1234", "90210-1234"), ("902101234", "90210-1234"),
        ("sw1a 1aa", "SW1A 1AA"), ("SW1A1AA", "SW1A 1AA"), ("m1 1ae", "M1 1AE"),
    ],
)
def test_zipcodes(text, value):
    assert accepted("ZIPCODE", text) == value


@pytest.mark.parametrize("text", ["1234", "1234567", "ABCDE", "0131-0100x", ""])
def test_invalid_zipcodes(text):
    rejected("CEP", text)


# ---------------------------------------------------------------- languages and colours


@pytest.mark.parametrize(
    "text, code",
    [
        ("en", "en"), ("PT", "pt"), ("pt-BR", "pt"), ("es_ES", "es"), ("English", "en"),
        ("inglês", "en"), ("inglés", "en"), ("Portuguese", "pt"), ("português", "pt"),
        ("Spanish", "es"), ("espanhol", "es"), ("español", "es"), ("alemão", "de"),
        ("francés", "fr"), ("Japanese", "ja"), ("chinês", "zh"), ("zu", "zu"),
    ],
)
def test_languages(text, code):
    assert accepted("LANGUAGE", text) == code


@pytest.mark.parametrize("text", ["xx", "klingon", "e", ""])
def test_invalid_languages(text):
    rejected("LANG", text)


@pytest.mark.parametrize(
    "text, value",
    [
        ("red", "#FF0000"), ("Blue", "#0000FF"), ("teal", "#008080"), ("light blue", "#ADD8E6"),
        ("dark-green", "#006400"), ("azul", "#0000FF"), ("vermelho", "#FF0000"),
        ("#abc", "#AABBCC"), ("#1a2B3c", "#1A2B3C"), ("rgb(255, 0, 10)", "#FF000A"),
        ("RGB(0,128,255)", "#0080FF"),
    ],
)
def test_colors(text, value):
    assert accepted("COLOR", text) == value


@pytest.mark.parametrize("text", ["#12", "#GGGGGG", "rgb(256,0,0)", "abcdef", "blurple", ""])
def test_invalid_colors(text):
    rejected("COLOUR", text)


# ---------------------------------------------------------------- documents and cards


@pytest.mark.parametrize(
    "type_name, text, value",
    [
        ("CPF", "529.982.247-25", "529.982.247-25"),
        ("CPF", "52998224725", "529.982.247-25"),
        ("CPF", "111.444.777-35", "111.444.777-35"),
        ("CNPJ", "11.222.333/0001-81", "11.222.333/0001-81"),
        ("CNPJ", "11222333000181", "11.222.333/0001-81"),
        ("CREDITCARD", "4111 1111 1111 1111", "4111 **** **** 1111"),
        ("CARD", "5500-0000-0000-0004", "5500 **** **** 0004"),
        ("CREDITCARD", "378282246310005", "3782 **** **** 0005"),
    ],
)
def test_documents_and_cards(type_name, text, value):
    assert accepted(type_name, text) == value


@pytest.mark.parametrize(
    "type_name, text",
    [
        ("CPF", "529.982.247-26"), ("CPF", "111.111.111-11"), ("CPF", "5299822472"),
        ("CPF", "abc.def.ghi-jk"),
        ("CNPJ", "11.222.333/0001-82"), ("CNPJ", "00.000.000/0000-00"), ("CNPJ", "1122233300018"),
        ("CREDITCARD", "4111 1111 1111 1112"), ("CREDITCARD", "4111 1111 111"),
        ("CREDITCARD", "4111-1111-1111-111x"),
    ],
)
def test_invalid_documents_and_cards(type_name, text):
    rejected(type_name, text)


def test_credit_card_never_keeps_the_full_number():
    result = validate_input("CREDITCARD", "4111111111111111")
    assert "4111111111111111" not in repr(result)


def test_password_keeps_the_secret_apart():
    result = validate_input("PASSWORD", "  correct horse  ")
    assert result == InputResult(True, PASSWORD_PLACEHOLDER, None, "correct horse")
    assert "correct horse" not in repr(result)


@pytest.mark.parametrize(
    "lang, error",
    [("en", "The password must have at least 8 characters."),
     ("pt-BR", "A senha deve ter pelo menos 8 caracteres.")],
)
def test_short_password(lang, error):
    assert validate_input("SECRET", "1234567", lang=lang) == InputResult(False, None, error)


# ---------------------------------------------------------------- media types


@pytest.mark.parametrize(
    "type_name, english, portuguese",
    [
        ("FILE", "This answer needs an attachment: please send a file.",
         "Esta resposta precisa de um anexo: por favor, envie um arquivo."),
        ("PDF", "This answer needs an attachment: please send a file.",
         "Esta resposta precisa de um anexo: por favor, envie um arquivo."),
        ("IMAGE", "This answer needs an attachment: please send an image.",
         "Esta resposta precisa de um anexo: por favor, envie uma imagem."),
        ("QRCODE", "This answer needs an attachment: please send a photo of the QR code.",
         "Esta resposta precisa de um anexo: por favor, envie uma foto do QR code."),
        ("AUDIO", "This answer needs an attachment: please send an audio message.",
         "Esta resposta precisa de um anexo: por favor, envie um áudio."),
        ("VIDEO", "This answer needs an attachment: please send a video.",
         "Esta resposta precisa de um anexo: por favor, envie um vídeo."),
        ("LOGIN", "This answer needs a login: please complete the sign-in.",
         "Esta resposta precisa de um login: por favor, conclua a autenticação."),
    ],
)
def test_media_types_need_an_attachment(type_name, english, portuguese):
    assert rejected(type_name, "here it is") == english
    assert rejected(type_name, "aqui está", lang="pt") == portuguese


# ---------------------------------------------------------------- menus

OPTIONS = ["Sales", "Technical Support", "Billing", "Sales Manager"]


@pytest.mark.parametrize(
    "text, choice",
    [
        ("sales", "Sales"),
        ("SALES MANAGER", "Sales Manager"),
        ("2", "Technical Support"),
        ("4", "Sales Manager"),
        ("support", "Technical Support"),
        ("bill", "Billing"),
        ("manager", "Sales Manager"),
    ],
)
def test_menu_choices(text, choice):
    assert accepted("MENU", text, options=OPTIONS) == choice


@pytest.mark.parametrize("text", ["5", "0", "sal", "xyz", ""])
def test_menu_rejections(text):
    error = rejected("MENU", text, options=OPTIONS)
    assert error == "Please choose one of the options: Sales, Technical Support, Billing, Sales Manager."


def test_menu_with_numeric_options_prefers_the_exact_option():
    assert accepted("STRING", "2", options=["10", "2", "1"]) == "2"
    assert accepted("STRING", "3", options=["10", "2", "1"]) == "1"


def test_menu_error_in_portuguese():
    assert rejected("MENU", "nada", options=["Sim", "Não"], lang="pt") == (
        "Por favor, escolha uma das opções: Sim, Não."
    )


# ---------------------------------------------------------------- localisation


@pytest.mark.parametrize(
    "type_name, text, english, portuguese",
    [
        ("INTEGER", "x", "Please enter a whole number.", "Por favor, informe um número inteiro."),
        ("EMAIL", "x", "Please enter a valid email address.", "Por favor, informe um e-mail válido."),
        ("DATE", "x", "Please enter a valid date, for example 31/12/2025.",
         "Por favor, informe uma data válida, por exemplo 31/12/2025."),
        ("CPF", "x", "Please enter a valid CPF.", "Por favor, informe um CPF válido."),
        ("BOOLEAN", "x", "Please answer yes or no.", "Por favor, responda sim ou não."),
    ],
)
def test_error_messages_follow_the_language(type_name, text, english, portuguese):
    assert rejected(type_name, text) == english
    assert rejected(type_name, text, lang="pt") == portuguese
    assert rejected(type_name, text, lang="PT-br") == portuguese
    assert rejected(type_name, text, lang="es") == english
