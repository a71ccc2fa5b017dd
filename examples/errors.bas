' Errors: ON ERROR RESUME NEXT, TRY/CATCH, THROW and ASSERT.
ON ERROR RESUME NEXT
x = 1 / 0
IF ERROR THEN TALK "Trapped: " + ERR_DESCRIPTION()
CLEAR ERROR
ON ERROR GOTO 0

TRY
    THROW "custom failure"
CATCH problem
    TALK "Caught: " + problem.message
END TRY

TRY
    ASSERT 1 + 1 = 3, "arithmetic is broken"
CATCH e
    TALK "Assertion: " + e.message
END TRY

TALK "The next line stops the script with file and line:"
y = "abc" * 2
TALK "never reached"
