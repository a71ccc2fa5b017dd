"""botbasic.runtime"""
