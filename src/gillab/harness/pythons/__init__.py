"""The matrix under several Pythons: each interpreter in a venv of its own running `gillab run` (run), the
merged CompareResult, and the single-thread cost of each free-threaded build in interleaved rounds (cost, with
its child, serial). `gillab compare` says what they show; `gillab advise` builds its advice on them."""
