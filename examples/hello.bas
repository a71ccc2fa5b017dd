' A first dialog: greetings, input with validation, interpolation, a formatted block.
BEGIN TALK
**Welcome to botbasic!**
I am a bot written in BASIC.
END TALK

HEAR name AS NAME WITH "What is your name?"
TALK "Nice to meet you, ${name}."

HEAR age AS INTEGER WITH "How old are you?"
IF age < 18 THEN
    TALK "You are " + age + ": still young!"
ELSE IF age < 65 THEN
    TALK "In " + (65 - age) + " years you can retire."
ELSE
    TALK "Enjoy your retirement, " + name + "."
END IF

HEAR likes AS BOOLEAN WITH "Do you like BASIC?"
IF likes THEN
    TALK "So do I."
ELSE
    TALK "Give it a chance."
END IF
