' The reminders table, created (or extended) when the bot loads.
TABLE reminders
    id guid KEY
    text string(500)
    due date
    email string(200)
    sent boolean
END TABLE
