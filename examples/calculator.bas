' Arithmetic, SELECT CASE, FORMAT and error trapping.
DESCRIPTION "Calculates a simple expression such as 12 / 4"

HEAR expression AS STRING WITH "Type a calculation like 12 * 4 (or 'quit'):"
DO WHILE LCASE(expression) <> "quit"
    parts = SPLIT(expression, " ")
    IF UBOUND(parts) <> 3 THEN
        TALK "Please write: number operator number"
    ELSE
        a = VAL(parts[0])
        b = VAL(parts[2])
        ON ERROR RESUME NEXT
        SELECT CASE parts[1]
            CASE "+"
                result = a + b
            CASE "-"
                result = a - b
            CASE "*", "x"
                result = a * b
            CASE "/"
                result = a / b
            CASE "^"
                result = a ^ b
            CASE ELSE
                result = NULL
                TALK "I do not know the operator " + parts[1]
        END SELECT
        IF ERROR THEN
            TALK "That did not work: " + ERR_DESCRIPTION()
            CLEAR ERROR
        ELSE IF result IS NOT NULL THEN
            TALK "Result: " + FORMAT(result, "#,##0.##")
        END IF
        ON ERROR GOTO 0
    END IF
    HEAR expression AS STRING WITH "Another one?"
LOOP
TALK "Bye."
