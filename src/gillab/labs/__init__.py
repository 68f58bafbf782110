"""The course's lessons as runnable labs: race, dis, annotate, io, convoy, states.

Every lab is one module with one pattern: ``NAME``; ``run(...)`` returns a frozen result with ``to_json()``
and ``from_json()``; ``facts(result)`` (where it has sentences), ``lines(result)`` (what its command
prints), ``picture(result, path)`` (where a picture helps) and ``section(figures)`` (its part of the report).
The command line only parses options and prints.
"""

from __future__ import annotations

from gillab.labs import annotate, convoy, disasm, io, race, states
from gillab.outputs.documents import Kind

KINDS = tuple(Kind(m.NAME, m.section) for m in (race, disasm, annotate, io, convoy, states))
"""Each lab's document, in the order the report shows them."""
