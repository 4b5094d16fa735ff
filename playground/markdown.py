"""Text a visitor controls (a link's keys, a CSV's column names, a file name), shown literally.

st.warning, st.error and st.markdown render Markdown, so a crafted link could otherwise put a
clickable link of its own inside the page's message.
"""

from __future__ import annotations

import re

_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain_text(text: str) -> str:
    """`text` with every Markdown special character escaped."""
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)
