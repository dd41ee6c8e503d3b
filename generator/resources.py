"""Where the shipped data lives: templates, modules and schemas.

In a wheel, ``templates/`` and ``modules/`` are packaged as ``generator/_data/...``; in a
checkout (or an editable install) they are the repository's top-level folders.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SCHEMAS_DIR = PACKAGE_DIR / "schemas"


@cache
def data_dir(name: str) -> Path:
    """Return the directory of shipped data ``name`` (``templates`` or ``modules``); where
    the package lives does not change while it runs, and every stack asks."""
    packaged = PACKAGE_DIR / "_data" / name
    if packaged.is_dir():
        return packaged
    return PACKAGE_DIR.parent / name
