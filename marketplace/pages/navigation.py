"""Where a person goes: the header's links and the first page of her day.

Each role's day (a module of this package) says which of its pages a viewer has, with
`nav_links(viewer)`; the package registers the days in the order their links show.
"""

from marketplace.pages.viewer import Viewer

_days: list = []


def register(day) -> None:
    """Add a role's day (a module with `blp` and `nav_links`) to the header."""
    _days.append(day)


def links(viewer: Viewer | None) -> list[tuple[str, str]]:
    """The viewer's pages, each (endpoint, label): none for who is signed out."""
    if viewer is None:
        return []
    return [link for day in _days for link in day.nav_links(viewer)]
