"""botbasic.keywords"""
