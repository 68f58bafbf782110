"""The course's lessons as runnable labs: race, dis, annotate, io, convoy, states.

Every lab is one module with one pattern: ``NAME``; ``run(...)`` returns a frozen result with ``to_json()``
and ``from_json()``; ``lesson(result)``, ``facts(result)`` (where it has sentences), ``picture(result, path)``
(where a picture helps) and ``view(result)``: the one View that the terminal, report.html, the notebook and
`gillab show` render. The command line only parses options and prints the view.
"""

from __future__ import annotations

from gillab.labs import annotate, convoy, disasm, io, race, states
from gillab.outputs.documents import Kind

KINDS = (
    Kind(race.NAME, race.Race.from_json, race.view, (race.Race,)),
    Kind(disasm.NAME, disasm.Disasm.from_json, disasm.view, (disasm.Disasm,)),
    Kind(annotate.NAME, annotate.Annotation.from_json, annotate.view, (annotate.Annotation,)),
    Kind(io.NAME, io.Io.from_json, io.view, (io.Io,)),
    Kind(convoy.NAME, convoy.Convoy.from_json, convoy.view, (convoy.Convoy,)),
    Kind(states.NAME, states.States.from_json, states.view, (states.States,)),
)
"""Each lab's document, in the order the report shows them."""
