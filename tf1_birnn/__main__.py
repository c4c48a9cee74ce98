"""``python -m tf1_birnn`` runs the ``tf1-birnn`` command line."""
import sys

try:
    from .tools.cli import main
except KeyboardInterrupt:  # Ctrl-C while TensorFlow is still being imported
    print("tf1-birnn: interrupted", file=sys.stderr)
    raise SystemExit(130) from None

raise SystemExit(main())
