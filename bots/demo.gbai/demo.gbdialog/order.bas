' Takes one order; start.bas calls it with CALL "order.bas", name, discount.
PARAM customer AS STRING DESCRIPTION "Who is ordering"
PARAM discount AS INTEGER DESCRIPTION "Discount in percent"
DESCRIPTION "Places an order for the current user"

ADD SUGGESTION "1"
ADD SUGGESTION "2"
ADD SUGGESTION "5"
HEAR quantity AS INTEGER WITH "How many items, " + customer + "?"
CLEAR SUGGESTIONS

total = quantity * 20 * (100 - discount) / 100
TALK "Ordered " + quantity + " item(s) for " + customer + "."
RETURN total
