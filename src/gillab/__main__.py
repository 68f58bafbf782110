"""Allow ``python -m gillab``."""

from gillab.cli import main

raise SystemExit(main())
