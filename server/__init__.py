"""botbasic.server"""
