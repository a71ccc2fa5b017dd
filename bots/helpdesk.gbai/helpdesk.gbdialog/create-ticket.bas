PARAM description AS STRING LIKE "My laptop does not start" DESCRIPTION "Description of the IT issue or problem"
PARAM category AS STRING LIKE "hardware" DESCRIPTION "Category: hardware, software, network, account" OPTIONAL
PARAM priority AS STRING LIKE "medium" DESCRIPTION "Priority level: high, medium, low" OPTIONAL
DESCRIPTION "Create a new IT support ticket with the issue, its category and priority"

IF NOT description THEN
  HEAR description AS STRING WITH "Please describe the problem."
END IF
IF NOT category THEN
  HEAR category AS "hardware", "software", "network", "account" WITH "Which kind of problem is it?"
END IF
IF NOT priority THEN
  priority = "medium"
END IF

count = GET BOT MEMORY("ticket-count")
IF NOT count THEN
  count = 0
END IF
count = count + 1
SET BOT MEMORY "ticket-count", count
id = "TKT-" + count

ticket = #{id: id, description: description, category: category, priority: priority, status: "open"}
SET BOT MEMORY "ticket " + id, ticket

TALK "Ticket " + id + " created (" + category + ", " + priority + " priority)."
RETURN ticket
