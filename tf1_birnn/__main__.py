"""``python -m tf1_birnn`` runs the ``tf1-birnn`` command line."""
from .tools.cli import main

raise SystemExit(main())
