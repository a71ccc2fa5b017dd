"""SEND MAIL / SEND EMAIL / BEGIN MAIL (DIALECT §9.9.1, §9.9.2, §11 A-36) against a real
local SMTP server (tests/smtp_support.py): every assertion is on what the server received."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from botbasic.runtime.config import BotConfig
from botbasic.runtime.memory_store import InMemoryStore
from botbasic.runtime.services.drive import Drive
from botbasic.runtime.services.mail import MailService, MailSettings
from botbasic.runtime.values import BasicObject, FileValue
from smtp_support import SENDER, free_port, smtp_server
from vm_support import run_script


@pytest.fixture(scope="module")
def server():
    with smtp_server() as running:
        yield running


@pytest.fixture
def smtp(server):
    server.clear()
    return server


@pytest.fixture
def drive(tmp_path):
    return Drive(tmp_path / "drive")


def services(config, drive=None) -> SimpleNamespace:
    return SimpleNamespace(memory=InMemoryStore(), mail=MailService.from_config(config),
                           drive=drive)


def send(smtp, source: str, *, config=None, drive=None, **context):
    """Run ``source`` with the mail service pointed at ``smtp``; the transcript."""
    return run_script(source, services=services(config or smtp.config(), drive), **context)


def delivered(smtp, source: str, **kwargs):
    """Run ``source`` (which must succeed) and return the one message received."""
    transcript = send(smtp, source, **kwargs)
    assert transcript.error is None, transcript.error
    assert len(smtp.received) == 1, smtp.received
    return smtp.received[0]


def trapped(smtp, source: str, **kwargs) -> str:
    """The ERROR MESSAGE a trapped SEND MAIL (or BEGIN MAIL) leaves."""
    transcript = send(smtp, "ON ERROR RESUME NEXT\n" + source + "\nTALK ERROR MESSAGE", **kwargs)
    assert transcript.error is None, transcript.error
    return transcript.messages[-1]


# ---------------------------------------------------------------- the forms


def test_three_arguments_named_like_the_parameters(smtp):
    mail = delivered(smtp, 'to = "ann@example.com"\nsubject = "Your order"\n'
                           'body = "Hello Ann,\\nit ships today."\n'
                           'SEND MAIL to, subject, body')
    assert mail.sender == SENDER and mail.recipients == ["ann@example.com"]
    assert mail.header("From") == SENDER and mail.header("To") == "ann@example.com"
    assert mail.header("Subject") == "Your order"
    assert mail.message.get_content_type() == "text/plain"
    assert mail.text() == "Hello Ann,\nit ships today.\n"
    assert mail.header("Message-ID").endswith("@example.com>") and mail.header("Date")


def test_send_email_is_a_synonym_and_returns_the_message_id(smtp):
    transcript = send(smtp, 'id = SEND EMAIL "ann@example.com", "Hi", "Body"\nTALK id')
    assert transcript.error is None, transcript.error
    assert transcript.messages == [smtp.received[0].header("Message-ID")]


def test_two_arguments_take_the_subject_from_the_first_line(smtp):
    mail = delivered(smtp, 'SEND EMAIL "admin@example.com", "Syncing products...\\nstep 2"')
    assert mail.header("Subject") == "Syncing products..."
    assert mail.text() == "Syncing products...\nstep 2\n"


def test_two_argument_subject_is_cut_at_78_characters(smtp):
    mail = delivered(smtp, f'SEND EMAIL "admin@example.com", "{"ab" * 50}\\nrest"')
    assert mail.header("Subject") == "ab" * 39


def test_two_arguments_without_text_use_the_bot_name(smtp):
    bot = BasicObject({"id": "sales", "name": "sales", "title": "Sales Bot"})
    mail = delivered(smtp, 'SEND EMAIL "admin@example.com", ""', variables={"bot": bot})
    assert mail.header("Subject") == "Sales Bot"


def test_to_is_noise_before_the_arguments(smtp):
    mail = delivered(smtp, 'SEND EMAIL TO "ann@example.com", "Welcome", "Glad you came."')
    assert (mail.recipients, mail.header("Subject"), mail.text()) == (
        ["ann@example.com"], "Welcome", "Glad you came.\n")


def test_to_subject_body_form(smtp):
    mail = delivered(smtp, 'subject = "Quote"\nr = "lead@example.com"\n'
                           'SEND MAIL TO r SUBJECT "Re: " + subject BODY "See attached."')
    assert (mail.recipients, mail.header("Subject"), mail.text()) == (
        ["lead@example.com"], "Re: Quote", "See attached.\n")


def test_using_an_account_sends_through_the_bot_server_and_logs_it(smtp):
    transcript = send(smtp, 'SEND MAIL "ann@example.com", "Hi", "Body" USING "me@corp.com"')
    assert transcript.error is None, transcript.error
    assert smtp.received[0].sender == SENDER
    assert any("me@corp.com" in text and "not supported" in text for _, text in transcript.logs)


def test_a_subject_with_line_breaks_stays_one_header(smtp):
    mail = delivered(smtp, 'SEND MAIL "ann@example.com", "Hi\\nBcc: eve@example.com", "x"')
    assert mail.header("Subject") == "Hi Bcc: eve@example.com"
    assert mail.recipients == ["ann@example.com"] and mail.header("Bcc") == ""


# ---------------------------------------------------------------- body and recipients


def test_html_body_is_sent_with_a_plain_alternative(smtp):
    mail = delivered(smtp, 'SEND MAIL "ann@example.com", "News", '
                           '"<h1>Hello</h1><p>Read <a href=\'https://x.io/n\'>this</a>.</p>"')
    assert mail.message.get_content_type() == "multipart/alternative"
    assert "<h1>Hello</h1>" in mail.html()
    assert mail.text() == "Hello\n\nRead this (https://x.io/n).\n"


def test_angle_brackets_alone_do_not_make_html(smtp):
    mail = delivered(smtp, 'SEND MAIL "ann@example.com", "Contact", '
                           '"Write to Ann <ann@example.com> if a < b > c."')
    assert mail.message.get_content_type() == "text/plain" and mail.html() is None
    assert mail.text() == "Write to Ann <ann@example.com> if a < b > c.\n"


def test_several_recipients_in_one_text(smtp):
    mail = delivered(smtp, 'SEND MAIL "a@example.com; b@example.com, Carl <c@example.com>", '
                           '"Team", "Meeting at 3"')
    assert mail.recipients == ["a@example.com", "b@example.com", "c@example.com"]
    assert mail.header("To") == "a@example.com, b@example.com, Carl <c@example.com>"


def test_recipients_from_an_array(smtp):
    mail = delivered(smtp, 'list = ["a@example.com", "b@example.com"]\n'
                           'SEND MAIL list, "Team", "Hello all"')
    assert mail.recipients == ["a@example.com", "b@example.com"]


# ---------------------------------------------------------------- attachments


def test_fourth_argument_attaches_a_drive_file(smtp, drive):
    mail = delivered(smtp, 'WRITE "reports/sales.csv", "month,total\\nmarch,42"\n'
                           'SEND MAIL "boss@example.com", "Report", "Attached.", '
                           '"reports/sales.csv"', drive=drive)
    assert mail.message.get_content_type() == "multipart/mixed"
    assert mail.text() == "Attached.\n"
    content_type, data = mail.attachments()["sales.csv"]
    assert content_type == "text/csv" and data.replace(b"\r\n", b"\n") == b"month,total\nmarch,42"


def test_attachment_connector_with_a_file_value(smtp, drive):
    report = FileValue(name="Q1 report.pdf", mime_type="application/pdf", path="out/q1.pdf")
    mail = delivered(smtp, 'WRITE "out/q1.pdf", "%PDF-1.4 fake"\n'
                           'SEND MAIL "boss@example.com", "Q1", "See the file.", ATTACHMENT report',
                     drive=drive, variables={"report": report})
    assert mail.attachments() == {"Q1 report.pdf": ("application/pdf", b"%PDF-1.4 fake")}


def test_an_array_of_attachments_with_an_html_body(smtp, drive):
    mail = delivered(smtp, 'WRITE "a.txt", "first"\nWRITE "b.txt", "second"\n'
                           'SEND MAIL "boss@example.com", "Two", "<p>Both files</p>", '
                           '["a.txt", "b.txt"]', drive=drive)
    assert sorted(mail.attachments()) == ["a.txt", "b.txt"]
    assert mail.html() == "<p>Both files</p>\n" and mail.text() == "Both files\n"


def test_a_missing_attachment_is_a_trappable_error(smtp, drive):
    message = trapped(smtp, 'SEND MAIL "boss@example.com", "R", "x", "nope.pdf"', drive=drive)
    assert message == "email attachment: file not found: nope.pdf" and smtp.received == []


def test_attachments_need_the_drive_and_a_drive_file(smtp, drive):
    assert trapped(smtp, 'SEND MAIL "b@example.com", "R", "x", "a.txt"') == \
        "email attachments need the bot drive, which is not available"
    message = trapped(smtp, 'SEND MAIL "b@example.com", "R", "x", "https://x.io/a.pdf"',
                      drive=drive)
    assert message == "cannot attach https://x.io/a.pdf: DOWNLOAD it to the bot drive first"
    assert smtp.received == []


# ---------------------------------------------------------------- BEGIN MAIL


def test_begin_mail_block(smtp):
    mail = delivered(smtp, 'orderId = 42\nname = "Ann"\n'
                           'BEGIN MAIL "ann@example.com"\n'
                           'Subject: Order ${orderId} confirmed\n'
                           '\n'
                           'Dear ${name},\n'
                           'thank you.\n'
                           'END MAIL')
    assert mail.recipients == ["ann@example.com"]
    assert mail.header("Subject") == "Order 42 confirmed"
    assert mail.text().startswith("Dear Ann,\nthank you.")


def test_begin_mail_without_a_subject_line(smtp):
    mail = delivered(smtp, 'BEGIN MAIL "ann@example.com"\nStock is low.\nReorder soon.\nEND MAIL')
    assert mail.header("Subject") == "Stock is low."
    assert mail.text().startswith("Stock is low.\nReorder soon.")


# ---------------------------------------------------------------- failures


def test_an_unreachable_server_is_a_trappable_error(smtp):
    port = free_port()
    config = smtp.config(email_port=str(port))
    message = trapped(smtp, 'SEND MAIL "ann@example.com", "Hi", "x"', config=config)
    assert message.startswith(f"cannot connect to the mail server 127.0.0.1:{port}")


def test_an_untrapped_failure_stops_the_script_with_the_server_named(smtp):
    port = free_port()
    transcript = send(smtp, 'SEND MAIL "ann@example.com", "Hi", "x"\nTALK "after"',
                      config=smtp.config(email_port=str(port)))
    assert transcript.messages == []
    expected = f"main.bas:1: error: cannot connect to the mail server 127.0.0.1:{port}"
    assert transcript.error.startswith(expected)
    assert any("SEND MAIL to ann@example.com failed" in text for _, text in transcript.logs)


def test_a_refused_recipient_is_a_trappable_error(smtp):
    message = trapped(smtp, 'SEND MAIL "reject@example.com", "Hi", "x"')
    assert message == (f"the mail server 127.0.0.1:{smtp.port} refused the recipient "
                       f"reject@example.com (550 5.1.1 no such user)")
    assert smtp.received == []


def test_one_refused_recipient_among_several_is_logged(smtp):
    transcript = send(smtp, 'SEND MAIL "ann@example.com, reject@example.com", "Hi", "x"')
    assert transcript.error is None
    assert smtp.received[0].recipients == ["ann@example.com"]
    assert ("WARNING", f"the mail server 127.0.0.1:{smtp.port} refused reject@example.com") \
        in transcript.logs


def test_a_text_that_is_no_address_is_an_error(smtp):
    assert trapped(smtp, 'SEND MAIL "ann at example", "Hi", "x"') == \
        "not an email address: ann at example"


def test_without_a_mail_service_email_is_not_configured():
    transcript = run_script('ON ERROR RESUME NEXT\nSEND MAIL "a@example.com", "s", "b"\n'
                            'TALK ERROR MESSAGE')
    assert transcript.messages[0].startswith("email is not configured")


def test_config_without_email_server_gives_no_service():
    assert MailService.from_config(None) is None
    assert MailService.from_config(BotConfig([("email-from", "x@y.com")])) is None


# ---------------------------------------------------------------- login and TLS


def test_login_with_user_and_password():
    with smtp_server(users={"bot@example.com": "s3cret"}) as smtp:
        config = smtp.config(email_user="bot@example.com", email_pass="s3cret")
        mail = delivered(smtp, 'SEND MAIL "ann@example.com", "Hi", "x"', config=config)
        assert mail.login == "bot@example.com"
        config = smtp.config(email_user="bot@example.com", email_pass="wrong")
        message = trapped(smtp, 'SEND MAIL "ann@example.com", "Hi", "x"', config=config)
        assert message.startswith(f"the mail server 127.0.0.1:{smtp.port} refused the login "
                                  f"of bot@example.com (535")


def test_starttls_is_off_by_default_on_a_plain_port(smtp):
    assert MailSettings.from_config(smtp.config()).tls == "none"
    assert delivered(smtp, 'SEND MAIL "ann@example.com", "Hi", "x"').tls is False


def test_starttls_asked_of_a_server_without_it_is_an_error(smtp):
    message = trapped(smtp, 'SEND MAIL "ann@example.com", "Hi", "x"',
                      config=smtp.config(email_tls="starttls"))
    assert message == f"the mail server 127.0.0.1:{smtp.port} does not offer STARTTLS " \
                      f"(set email-tls to none or ssl)"
    assert smtp.received == []


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_encrypted_delivery(mode):
    with smtp_server(tls=mode) as smtp:
        config = smtp.config(email_tls=mode, email_tls_verify="false")
        assert delivered(smtp, 'SEND MAIL "ann@example.com", "Hi", "x"', config=config).tls


def test_a_self_signed_certificate_is_refused_unless_told():
    with smtp_server(tls="ssl") as secure:
        message = trapped(secure, 'SEND MAIL "ann@example.com", "Hi", "x"',
                          config=secure.config(email_tls="ssl"))
        assert message.startswith(f"TLS with the mail server 127.0.0.1:{secure.port} failed")
        assert "email-tls-verify false" in message and secure.received == []


@pytest.mark.parametrize("entries, expected", [
    ({"email-port": "465"}, ("ssl", 465)),
    ({"email-port": "587"}, ("starttls", 587)),
    ({"email-port": "25"}, ("none", 25)),
    ({}, ("starttls", 587)),
    ({"email-tls": "SSL"}, ("ssl", 465)),
    ({"email-tls": "none", "email-port": "587"}, ("none", 587)),
])
def test_tls_mode_and_port_defaults(entries, expected):
    config = BotConfig([("email-server", "smtp.x.com"), *entries.items()])
    settings = MailSettings.from_config(config)
    assert (settings.tls, settings.port) == expected
