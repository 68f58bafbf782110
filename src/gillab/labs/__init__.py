"""The course's lessons as runnable labs: race, dis, annotate, io, convoy, states."""
