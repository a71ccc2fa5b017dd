' Called by procedures.bas: PARAMs bind by position, RETURN gives the CALL its value.
PARAM a AS INTEGER DESCRIPTION "First addend"
PARAM b AS INTEGER DESCRIPTION "Second addend"
DESCRIPTION "Adds two numbers"

TALK "helper.bas adds " + a + " and " + b
RETURN a + b
