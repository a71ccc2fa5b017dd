' The demo bot: a greeting, the user's name, then a menu until the user leaves.
' `company` and `discount` come from demo.gbot/config.csv (param-company, param-discount);
' `botbasic run` reads no config, so they fall back to defaults here.
company = NVL(company, "botbasic")
discount = NVL(discount, 10)

BEGIN TALK
**Hello from ${company}!**
I am a demo bot written in BASIC.
END TALK

' A button for users who would rather not say their name.
ADD SUGGESTION "Guest"
HEAR name AS NAME WITH "What is your name?"
CLEAR SUGGESTIONS
TALK "Nice to meet you, ${name}."

' The menu: HEAR ... AS "a", "b" shows the options as buttons and accepts only them.
done = FALSE
DO WHILE NOT done
    HEAR choice AS "Prices", "Opening hours", "Place an order", "Bye" WITH "What would you like to do?"
    SELECT CASE choice
        CASE "Prices"
            TALK "Everything costs 20 today, " + discount + "% off for you, " + name + "."
        CASE "Opening hours"
            TALK "We are open from 9 to 17, Monday to Friday."
        CASE "Place an order"
            total = CALL "order.bas", name, discount
            TALK "Order total: " + FORMAT(total, "0.00")
        CASE ELSE
            done = TRUE
    END SELECT
LOOP

TALK "Goodbye, ${name}!"
