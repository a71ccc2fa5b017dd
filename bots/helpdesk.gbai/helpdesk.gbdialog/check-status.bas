PARAM ticket AS STRING LIKE "TKT-1" DESCRIPTION "The ticket number, like TKT-1"
DESCRIPTION "Look up the status of an IT support ticket"

found = GET BOT MEMORY("ticket " + UCASE(TRIM(ticket)))
IF NOT found THEN
  RETURN "There is no ticket " + ticket
END IF
RETURN found
