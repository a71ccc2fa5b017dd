import botbasic.interpreter
def test_x():
    assert botbasic.interpreter.__file__.endswith("interpreter/__init__.py")
