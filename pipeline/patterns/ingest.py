"""Patterns used while reading and normalising inputs."""

import re

# File signatures of formats that are not text, so a renamed archive gets a clear reason.
MAGIC_NUMBERS: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip archive (or .docx/.xlsx)"),
    (b"%PDF", "PDF document"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"\x1f\x8b", "gzip archive"),
    (b"Rar!", "RAR archive"),
    (b"7z\xbc\xaf", "7-Zip archive"),
    (b"\xd0\xcf\x11\xe0", "OLE document (.doc/.xls)"),
    (b"\x7fELF", "executable"),
)

HTML_SNIFF = re.compile(rb"^\s*(<!doctype html|<html|<head|<body|<div|<meta|<p[\s>])", re.I)

CJK = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")  # folded to ASCII in the match form
CJK_RUN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]+")
NON_ASCII_LETTER_RUN = re.compile(r"[^\x00-\x7f\s]+")  # neither ASCII nor space (str.isspace)
INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
LINE_TRAILING_SPACE = re.compile(r"[ \t\u3000]+$", re.M)
MANY_BLANK_LINES = re.compile(r"\n{3,}")

# A line ending that closes a sentence or a heading: after it a line break is real.
SENTENCE_END = '。！？!?；;：:」』”"）)】'
# PDF page furniture on a line of its own: "— 2 —", "- 3 -", "第 4 页", "2/7".
PAGE_FURNITURE = re.compile(
    r"^\s*(?:[—\-－–]{1,2}\s*\d{1,3}\s*[—\-－–]{1,2}|第\s*\d{1,3}\s*页(?:\s*共\s*\d+\s*页)?|\d{1,3}\s*/\s*\d{1,3})\s*$"
)
# Lines a PDF-wrapped paragraph must not swallow: they start a new heading or item.
LINE_START_MARKER = re.compile(
    r"^\s*(?:[一二三四五六七八九十]+[、.．]|[（(][一二三四五六七八九十\d]+[）)]|\d+[.．、]|"
    r"[①-⑳]|问题\s*\d|[一二三四五六七八九十]+是)"
)

# HTML: elements that never hold the notice's text.
HTML_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "iframe",
    "nav",
    "svg",
    "form",
    "button",
    "select",
    "template",
)
HTML_DROP_CLASS = re.compile(
    r"(^|[\s_-])(nav|navbar|menu|breadcrumb|crumb|share|bdshare|toolbar|topbar|sidebar|print|"
    r"footer|foot|copyright|banner|search|login|skip|related|friendlink|links)([\s_-]|$)",
    re.I,
)
HTML_BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "ul",
        "ol",
        "section",
        "article",
        "header",
        "footer",
        "title",
        "dd",
        "dt",
        "blockquote",
        "pre",
    ]
)
# Whole lines of page furniture that survive the HTML parser (share/print widgets).
HTML_FURNITURE_LINE = re.compile(
    r"^\s*(?:【?\s*(?:打印本页|打印|关闭窗口|关闭|返回顶部|收藏|分享到?|字号|大|中|小)\s*】?\s*[:：]?\s*)+$"
    r"|^\s*(?:分享到|扫一扫|打印本页|关闭窗口|【打印】|【关闭】)"
)
