"""`gillab check`: does any callable release the GIL, and how far does it scale with threads?"""
