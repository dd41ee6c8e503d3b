"""``python -m generator.sandbox``: the sandbox provider plugin process (Terraform starts it)."""

import sys

from generator.sandbox.server import serve

sys.exit(serve())
