' Arrays, objects, FOR EACH, FOR ... STEP, WHILE, WITH blocks, JSON and functions on lists.
fruits = ["apple", "banana", "cherry"]
PUSH fruits, "date"
TALK "I know " + UBOUND(fruits) + " fruits: " + JOIN(fruits, ", ")

FOR i = 0 TO UBOUND(fruits) - 1 STEP 2
    TALK i + ". " + UCASE(fruits[i])
NEXT i

WITH order
    id = 1001
    customer = "Ann"
    items = [#{ name: "pen", price: 1.5, qty: 4 }, #{ name: "book", price: 12, qty: 1 }]
END WITH

total = 0
FOR EACH item IN order.items
    IF item.qty = 0 THEN
        CONTINUE
    END IF
    total = total + item.price * item.qty
NEXT
TALK "Order " + order.id + " for " + order.customer + ": " + FORMAT(total, "0.00")

countdown = 3
WHILE countdown > 0
    TALK "T-" + countdown
    countdown = countdown - 1
WEND

data = TOJSON(order)
copy = JSON(data)
TALK "The first item is a " + copy.items[0].name
TALK "Sorted: " + JOIN(SORT(fruits, "DESC"), " > ")
