"""A minimal page shell shared by the services' HTML pages until their own templates exist."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape())


def simple_page(brand: str, title: str, body_html: str) -> str:
    """Render a page; `body_html` is trusted markup written by the project, never user input."""
    return _env.get_template("page.html").render(brand=brand, title=title, body=Markup(body_html))  # noqa: S704
