' Every morning: email the reminders that are due and mark them sent.
SET SCHEDULE "every day at 8am"

today = FORMAT(TODAY(), "yyyy-MM-dd")
due = FIND "reminders" WHERE due <= today AND sent = FALSE
count = 0
FOR EACH r IN due
    ON ERROR RESUME NEXT
    SEND MAIL r.email, "Reminder: " + LEFT(r.text, 60), "You asked me to remind you:\n\n" + r.text
    IF ERROR THEN
        LOG_WARN "could not email " + r.email + ": " + ERROR MESSAGE
        CLEAR ERROR
    ELSE
        UPDATE "reminders" SET sent = TRUE WHERE id = r.id
        count = count + 1
    END IF
    ON ERROR GOTO 0
NEXT
RETURN count
