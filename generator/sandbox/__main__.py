"""``python -m generator.sandbox [--provider google-beta]``: the sandbox provider plugin
process (Terraform starts it through the wrapper scripts :mod:`generator.sandbox.run` writes)."""

import sys

from generator.sandbox.server import serve

sys.exit(serve(sys.argv[1:]))
