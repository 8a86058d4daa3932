"""The longdep Streamlit dashboard (``streamlit run dashboard/app.py`` or ``longdep dashboard``).

``app.py`` is the router, ``views/`` holds one module per page, ``charts.py`` builds the
Altair charts, ``data.py`` runs the cached computations, ``uploads.py`` reads and validates
user files and ``i18n.py`` holds every string in English and Chinese.
"""

from __future__ import annotations

from pathlib import Path

#: The script ``streamlit run`` executes.
APP_PATH = Path(__file__).with_name("app.py")

__all__ = ["APP_PATH", "THEME"]

#: The theme, as in the checkout's .streamlit/config.toml; `longdep dashboard` passes it
#: on the command line so it applies wherever the command is run from.
THEME = {
    "base": "light",
    "primaryColor": "#1f6feb",
    "backgroundColor": "#ffffff",
    "secondaryBackgroundColor": "#f3f6fa",
    "textColor": "#1f2328",
    "font": "sans serif",
}
