"""ui.text.md: user text renders literally. Checked with a CommonMark renderer (markdown-it-py, with GFM's
linkify and strikethrough): the rendered HTML holds the text itself and no markup made from it."""

from __future__ import annotations

import html as std_html
import re

import pytest

from tests import badfiles
from ui.text import JOINER, html, md

HOSTILE = [
    badfiles.EVIL_NAME,
    "![x](https://evil.example/p.png) [click](javascript:alert(1))",
    "<script>alert(1)</script><img src=x onerror=alert(1)>",
    "**bold** _it_ ~~gone~~ `code` \\*not\\*",
    "# heading", "> quote", "- item", "+ item", "1. first", "2) second", "=== ", "| a | b |",
    "    indented code", "line one\nline two\n\n# heading after a blank line",
    "https://evil.example www.evil.example me@evil.example",
    "&lt;b&gt; &amp; &#60;", ":red[red] :material/home: :smile:", "$x^2$ and $$y$$",
    "x_train/y_train.npz", "model (1) [final].keras",
]


@pytest.fixture(scope="module")
def render():
    from markdown_it import MarkdownIt

    engine = MarkdownIt("commonmark", {"linkify": False}).enable(["strikethrough", "table"])
    return lambda source: engine.render(source)


def text_of(rendered: str) -> str:
    """The visible text of one rendered paragraph: must be a single <p> with no tags inside."""
    body = rendered.strip()
    assert body.startswith("<p>") and body.endswith("</p>"), body
    inner = body[3:-4]
    assert "<" not in inner, inner  # no element was made from the text
    return std_html.unescape(inner).replace(JOINER, "")  # the invisible joiner that stops autolinks


@pytest.mark.parametrize("text", HOSTILE)
def test_md_renders_as_the_text_itself(text, render):
    assert text_of(render(md(text))) == " ".join(text.split())


@pytest.mark.parametrize("text", HOSTILE)
def test_md_inside_our_own_markdown_stays_text(text, render):
    rendered = render(f"**Layers of {md(text)}** · input (4,)")
    assert rendered.count("<strong>") == 1 and "<a " not in rendered and "<img" not in rendered
    assert std_html.unescape(re.sub(r"</?strong>", "", rendered)).replace(JOINER, "").strip()[3:-4] == \
        f"Layers of {' '.join(text.split())} · input (4,)"


def test_md_leaves_plain_names_readable():
    for plain in ("LeNet-300-100 · default baseline", "Bundled MNIST subset — 8,000 train / 2,000 test images",
                  "flat-mlp.keras · uploaded"):
        assert md(plain) == plain


def test_no_emoji_colour_or_latex_syntax_survives():
    out = md(":red[red] :smile: $x$")
    assert ":red[" not in out and ":smile:" not in out and "$x$" not in out
    assert re.sub(r"\\(.)", r"\1", out) == ":red[red] :smile: $x$"  # unescaping gives the text back


def test_html_escapes_for_charts():
    assert html('<a href="x">&</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"


def test_autolink_patterns_are_broken_by_an_invisible_joiner():
    out = md("see www.evil.example, https://evil.example and me@evil.example")
    assert "www." not in out and "://" not in out and "@e" not in out
    assert re.sub(r"\\(.)", r"\1", out).replace(JOINER, "") == \
        "see www.evil.example, https://evil.example and me@evil.example"
