' Reminders: the user leaves a reminder; send-reminders.bas emails it on its day.
BEGIN TALK
**Reminders**
I can email you a reminder on the day you choose.
END TALK

HEAR text AS STRING WITH "What should I remind you of?"
HEAR due AS DATE WITH "On which day? (for example 2026-12-24 or tomorrow)"
HEAR email AS EMAIL WITH "Which email address should I write to?"

WITH reminder
    id = GUID()
    text = text
    due = due
    email = email
    sent = FALSE
END WITH
SAVE "reminders", reminder

pending = FIND "reminders" WHERE email = email AND sent = FALSE
TALK "Saved. You have " + UBOUND(pending) + " reminder(s) waiting, the next on " + FORMAT(due, "MMMM d, yyyy") + "."
