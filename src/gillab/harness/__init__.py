"""How a workload is run and measured: the executors, one cell's session, interleaved rounds, the noise
flags, the instruments, and the results they make."""
