"""mkdocs hook: the site's home page is the README.

mkdocs reads pages from docs/ only, and the README lives at the root, where its links say
``docs/page.md``; the home page (docs/index.md) gets the README's text with those links made relative.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

HOME = "index.md"


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any, **kwargs: Any) -> str:
    if page.file.src_uri != HOME:
        return markdown
    readme = Path(config["config_file_path"]).parent / "README.md"
    return re.sub(r"\]\(docs/", "](", readme.read_text(encoding="utf-8"))
