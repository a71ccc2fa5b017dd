' Menus and suggestions, SWITCH, bot memory, REMEMBER/RECALL and dates.
ADD SUGGESTION "orders" AS "My orders"
ADD SUGGESTION "help" AS "Help"

visits = GET BOT MEMORY("visits")
IF visits IS NULL THEN
    visits = 0
END IF
SET BOT MEMORY "visits", visits + 1

HEAR choice AS "Orders", "Help", "Quit" WITH "What do you need?"
SWITCH choice
    CASE "Orders"
        REMEMBER "last_choice", "orders"
        due = DATEADD("2026-01-31", 1, "month")
        TALK "Your next order ships on " + FORMAT(due, "MMMM dd, yyyy")
    CASE "Help"
        REMEMBER "last_choice", "help"
        TALK "Ask me anything."
    DEFAULT
        TALK "Goodbye."
END SWITCH
CLEAR SUGGESTIONS
TALK "Remembered: " + RECALL("last_choice") + "; visits before this one: " + visits
