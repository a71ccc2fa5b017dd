"""botbasic.interpreter"""
