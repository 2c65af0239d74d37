r"""The one escaping helper: anything a user supplied (model and layer names, file names, .npz keys, messages
quoting them) is shown as text, never as Markdown, HTML, LaTeX, emoji or colour directives.

>>> print(md("# ![x](https://evil.example) <b>*hi*</b> $x$ :red[r] www.evil.example a@b.c").replace(JOINER, "⁀"))
\# \!\[x\](https\:⁀//evil.example) \<b\>\*hi\*\</b\> \$x\$ \:red\[r\] www⁀.evil.example a\@⁀b.c
>>> print(md("1. item"), md("- item"), md("x.keras · 8,000 train / 2,000 test"))
1\. item \- item x.keras · 8,000 train / 2,000 test
>>> html("<b>a</b> & b")
'&lt;b&gt;a&lt;/b&gt; &amp; b'
"""

from __future__ import annotations

import html as _html
import re

# Characters that start Markdown/Streamlit syntax anywhere in a line: escapes, code, emphasis, strikethrough,
# links and images ([ ] !), raw HTML and autolinks (< >), entities (&), LaTeX ($), emoji, icons and colour
# directives (:), e-mail autolinks (@). Other punctuation (. , / - ' ( ) …) is left alone so that plain names
# stay readable in the Markdown source; where it matters it is handled below.
_INLINE = re.compile(r"([\\`*_~\[\]<>!&$:@])")
# GitHub-style autolinks (www.x.y, http://x, a@b.c) are found in the text after escapes are resolved, so a
# backslash cannot stop them: a WORD JOINER (U+2060, invisible, no line break) inside the pattern does.
JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)\b(www)(?=\.)|(\\:)(?=//)|(\\@)")
_BLOCK_START = re.compile(r"^(\s*)([#>+\-=|]|\d+[.)])")  # headings, quotes, lists … when the text starts a line


def md(text) -> str:
    """``text`` for st.markdown / st.caption / st.error / st.spinner / widget labels, shown literally.

    Whitespace is collapsed to single spaces (a newline would start a new block, four spaces a code
    block); Markdown-active characters are backslash-escaped (CommonMark allows escaping any ASCII
    punctuation, and the escape renders as the character itself); autolink patterns get an invisible
    WORD JOINER, the only thing that stops Streamlit's GFM autolinks."""
    flat = " ".join(str(text).split())
    flat = _INLINE.sub(r"\\\1", flat)
    flat = _AUTOLINK.sub(lambda m: m.group(0) + JOINER, flat)
    return _BLOCK_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], flat)


def html(text) -> str:
    """``text`` for HTML-like contexts (Plotly titles, axis ticks, hover text, legends): < > & and quotes as
    entities."""
    return _html.escape(str(text), quote=True)
