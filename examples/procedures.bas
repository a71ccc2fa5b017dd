' SUB and FUNCTION (hoisted), recursion, GOSUB, GOTO and CALL of another script.
TALK "5! = " + factorial(5)
CALL greet("world")

n = 0
again:
n = n + 1
IF n < 3 THEN GOTO again
TALK "counted to " + n

GOSUB footer
total = CALL "helper.bas", 2, 3
TALK "helper.bas returned " + total
EXIT

footer:
TALK "-- footer --"
RETURN

FUNCTION factorial(k)
    IF k <= 1 THEN RETURN 1
    RETURN k * factorial(k - 1)
END FUNCTION

SUB greet(who)
    TALK "Hello, " + who + "!"
END SUB
