"""`gillab compare`: the same matrix under several Pythons, free-threaded ones included."""
