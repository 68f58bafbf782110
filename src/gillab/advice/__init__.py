"""`gillab advise`: the user's own callable through the whole matrix, and which way to run it here."""
