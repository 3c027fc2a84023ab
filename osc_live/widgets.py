"""``osc_live.widgets``: the documented import path of the bound controls.

The code lives in :mod:`osc_live.notebook.widgets` (the notebook layer); every public name is
re-exported here unchanged (``from osc_live.widgets import slider, Binding``).
"""

from __future__ import annotations

from osc_live.notebook.widgets import *  # noqa: F403 - the same public names, one list
from osc_live.notebook.widgets import __all__ as __all__
