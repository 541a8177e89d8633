"""Stage 1, ingest: bytes on disk → one normalised ``Text``.

Only this stage reads files. It decides the encoding (BOM, UTF-8, GB18030, UTF-16, then a
detector), turns HTML into visible text, and normalises line endings, PDF hard wraps and
invisible characters. The stored text is what every later offset points into; the
``match_text`` beside it folds traditional characters and full-width punctuation so that
patterns need only one spelling.
"""

from __future__ import annotations

import hashlib
import unicodedata
from functools import lru_cache
from pathlib import Path

from pipeline.patterns import ingest as pat
from pipeline.types import ErrorStage, PipelineError, Text

TEXT_SUFFIXES = frozenset({".txt", ".text", ""})
HTML_SUFFIXES = frozenset({".html", ".htm", ".shtml", ".xhtml"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES

# Full-width ASCII (！ … ～) and the ideographic space fold to their half-width forms; one
# character to one character, so offsets are kept.
_WIDTH_FOLD = {chr(cp): chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)} | {"\u3000": " "}
_MIN_CJK_SHARE = 0.3


def doc_id_for(text: str) -> str:
    """First 16 hex digits of the SHA-256 of the normalised text (SCHEMA.md)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read_document(path: str | Path) -> Text:
    """Read one file into a ``Text``; raise ``PipelineError`` naming the reason otherwise."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except IsADirectoryError as exc:
        raise PipelineError(ErrorStage.READ, "IsADirectory", f"{path}: is a directory") from exc
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        raise PipelineError(ErrorStage.READ, "ReadError", f"{path}: cannot be read ({reason})") from exc
    return text_from_bytes(data, name=str(path), suffix=path.suffix.lower())


def text_from_bytes(data: bytes, *, name: str = "<bytes>", suffix: str = ".txt") -> Text:
    """Decode, extract and normalise raw bytes; ``suffix`` chooses text or HTML handling."""
    if suffix in {".docx", ".pdf", ".doc"}:
        raise PipelineError(
            ErrorStage.READ, "UnsupportedFormat", f"{name}: {suffix} files are not supported yet"
        )
    if not data.strip():
        raise PipelineError(ErrorStage.READ, "EmptyFile", f"{name}: file is empty")
    raw, encoding = decode_bytes(data, name=name)
    is_html = suffix in HTML_SUFFIXES or (suffix not in TEXT_SUFFIXES and pat.HTML_SNIFF.match(data[:512]))
    if is_html:
        raw = html_to_text(raw)
        if not raw.strip():
            raise PipelineError(ErrorStage.EXTRACT, "NoVisibleText", f"{name}: HTML page has no visible text")
    text = normalise(raw)
    if not text:
        raise PipelineError(ErrorStage.EXTRACT, "EmptyFile", f"{name}: no text after normalisation")
    return Text(
        doc_id=doc_id_for(text),
        source_paths=(name,),
        format="html" if is_html else "txt",
        encoding=encoding,
        text=text,
        match_text=match_form(text),
    )


def text_from_string(text: str, *, name: str = "<string>") -> Text:
    """Wrap text already in memory (the API's ``parse("…")``) as a ``Text``."""
    normalised = normalise(text)
    return Text(doc_id_for(normalised), (name,), "txt", "str", normalised, match_form(normalised))


# --- decoding -------------------------------------------------------------------------


def _cjk_share(text: str) -> float:
    """Share of Chinese characters among the characters that are neither ASCII nor space."""
    # counted over runs, not one match per character: four times faster on a notice
    letters = sum(map(len, pat.NON_ASCII_LETTER_RUN.findall(text)))
    if not letters:
        return 1.0 if text.isascii() else 0.0
    return sum(map(len, pat.CJK_RUN.findall(text))) / letters


def decode_bytes(data: bytes, *, name: str = "<bytes>") -> tuple[str, str]:
    """Return ``(text, encoding)``; raise ``PipelineError`` for binary or undecodable bytes.

    Order matters: a BOM is certain, strict UTF-8 almost never decodes anything else, and
    GB18030 is tried before the statistical detector because short Chinese GBK files fool
    detectors. A truncated UTF-8 file is still UTF-8, not GB18030 mojibake.
    """
    for magic, kind in pat.MAGIC_NUMBERS:
        if data.startswith(magic):
            raise PipelineError(ErrorStage.DECODE, "BinaryFile", f"{name}: binary file ({kind}), not text")
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError as exc:
                raise PipelineError(
                    ErrorStage.DECODE,
                    "DecodeError",
                    f"{name}: starts with a {encoding} BOM but is not valid {encoding}",
                ) from exc
    if b"\x00" in data:
        return _decode_with_nuls(data, name)
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    # A cut-off final character, or a few stray bytes in an otherwise UTF-8 file.
    repaired = data.decode("utf-8", errors="replace")
    bad = repaired.count("\ufffd")
    if utf8_error.start >= len(data) - 3 or bad <= max(2, len(repaired) // 1000):
        return repaired, "utf-8 (repaired)"
    return _best_cjk_decoding(data, name)


def _common_share(text: str) -> float:
    """Share of Chinese characters that are common ones (GB2312 level 1 once simplified).

    A right decoding of a Chinese notice scores about 0.9; the same bytes decoded in the
    wrong double-byte encoding give rare characters and score far lower.
    """
    cjk = "".join(pat.CJK_RUN.findall(text))
    if not cjk:
        return 0.0
    simplified = _t2s().convert(cjk)
    return (len(simplified) - len(simplified.translate(_gb2312_level1()))) / len(cjk)


@lru_cache(maxsize=1)
def _gb2312_level1() -> dict[int, None]:
    """The 3,755 common characters (GB2312 B0A1–D7F9) as a table that deletes them."""
    table: dict[int, None] = {}
    for high in range(0xB0, 0xD8):
        for low in range(0xA1, 0xFF):
            if (high << 8 | low) <= 0xD7F9:
                try:
                    table[ord(bytes([high, low]).decode("gb2312"))] = None
                except UnicodeDecodeError:
                    continue
    return table


def _best_cjk_decoding(data: bytes, name: str) -> tuple[str, str]:
    """Try the double-byte Chinese encodings and the detector's guesses; keep the most plausible."""
    candidates: list[tuple[float, str, str]] = []
    for encoding in ("gb18030", "big5"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _cjk_share(text) >= _MIN_CJK_SHARE:
            candidates.append((_common_share(text), encoding, text))
    mixed = _decode_line_by_line(data)
    # a GB18030 file whose pure-ASCII lines also read as UTF-8 comes out the same; being
    # later in the list, that copy could only tie, and ties go to the first candidate
    if mixed is not None and not any(text == mixed for _, _, text in candidates):
        candidates.append((_common_share(mixed), "utf-8+gb18030", mixed))
    if not candidates:
        return _detect(data, name)
    _, encoding, text = max(candidates, key=lambda c: c[0])
    return text, encoding


def _plausible(ch: str) -> bool:
    """A character a Chinese notice is made of: ASCII, CJK, or CJK and general punctuation."""
    code = ord(ch)
    return (
        code < 0x80
        or bool(pat.CJK.match(ch))
        or 0x2000 <= code <= 0x206F
        or 0x3000 <= code <= 0x303F
        or (0xFF00 <= code <= 0xFFEF)
    )


def _decode_line_by_line(data: bytes) -> str | None:
    """A file glued together from UTF-8 and GB18030 pieces.

    Each line is read as UTF-8 up to the first byte that is not, and from there on as
    GB18030; the result counts only if both encodings were needed.
    """
    lines, kinds = [], set()
    for raw in data.split(b"\n"):
        try:
            lines.append(raw.decode("utf-8"))
            kinds.add("utf-8")
            continue
        except UnicodeDecodeError as exc:
            cut = exc.start
        head = raw[:cut].decode("utf-8")
        while head and not _plausible(head[-1]):  # GB18030 bytes that happen to be valid UTF-8
            cut -= len(head[-1].encode("utf-8"))
            head = head[:-1]
        try:
            rest = raw[cut:].decode("gb18030")
        except UnicodeDecodeError:
            return None
        lines.append(head + rest)
        kinds.update({"gb18030", "utf-8"} if head else {"gb18030"})
    return "\n".join(lines) if kinds == {"utf-8", "gb18030"} else None


def _decode_with_nuls(data: bytes, name: str) -> tuple[str, str]:
    """NUL bytes mean UTF-16 without a BOM, or a binary file."""
    even_nuls = data[0::2].count(0)
    odd_nuls = data[1::2].count(0)
    half = max(1, len(data) // 2)
    for encoding, nuls in (("utf-16-le", odd_nuls), ("utf-16-be", even_nuls)):
        if nuls / half > 0.2 or _looks_like_utf16(data, encoding):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            if _cjk_share(text) >= _MIN_CJK_SHARE and "\x00" not in text:
                return text, encoding
    raise PipelineError(
        ErrorStage.DECODE, "BinaryFile", f"{name}: binary file (contains NUL bytes), not text"
    )


def _looks_like_utf16(data: bytes, encoding: str) -> bool:
    try:
        text = data[: len(data) // 2 * 2].decode(encoding)
    except UnicodeDecodeError:
        return False
    return _cjk_share(text) >= 0.6 and not any(ord(ch) < 9 for ch in text)


def _detect(data: bytes, name: str) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    for match in from_bytes(data).__iter__():
        text = str(match)
        if _cjk_share(text) >= _MIN_CJK_SHARE:
            return text, match.encoding
    raise PipelineError(
        ErrorStage.DECODE,
        "UnknownEncoding",
        f"{name}: unknown encoding (not UTF-8, UTF-16, GB18030 or Big5,"
        " and no detected encoding gives Chinese text)",
    )


# --- HTML -----------------------------------------------------------------------------


def html_to_text(html: str) -> str:
    """Visible text of a page, one line per block element, without navigation or widgets.

    The information-disclosure block (索引号, 发布机构, 成文日期) is kept: the document
    fields come from it. Walks the tree iteratively, so deeply nested pages cannot hit the
    recursion limit.
    """
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(html)
    root = tree.body or tree.root
    if root is None:
        return ""
    for tag in pat.HTML_DROP_TAGS:
        for node in root.css(tag):
            node.decompose()
    for node in root.css("[class], [id]"):
        marks = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
        if pat.HTML_DROP_CLASS.search(marks) and not _holds_article(node):
            node.decompose()
    pieces: list[str] = []
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, closing = stack.pop()
        tag = node.tag
        if closing:
            if tag in pat.HTML_BLOCK_TAGS:
                pieces.append("\n")
            elif tag in ("td", "th"):
                pieces.append(" ")
            continue
        if tag == "-text":
            pieces.append(node.text_content or "")
            continue
        if tag in ("-comment", "head"):
            continue
        if tag in pat.HTML_BLOCK_TAGS:
            pieces.append("\n")
        stack.append((node, True))
        children = []
        child = node.child
        while child is not None:
            children.append(child)
            child = child.next
        stack.extend((c, False) for c in reversed(children))
    lines = []
    for line in "".join(pieces).split("\n"):
        line = " ".join(line.split())
        if line and not pat.HTML_FURNITURE_LINE.search(line):
            lines.append(line)
    return "\n".join(lines)


def _holds_article(node) -> bool:
    """A container marked 'footer' or 'print' that still holds the notice must stay."""
    text = node.text(deep=True, separator="")
    return len(text) > 400 and ("整改" in text or "問題" in text or "问题" in text)


# --- normalisation --------------------------------------------------------------------


def normalise(text: str) -> str:
    """Canonical stored text: NFC, ``\\n`` line ends, no invisible characters, PDF wraps joined.

    Conservative on purpose: spaces inside lines are kept, because analysts compare spans
    with the published text.
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = pat.INVISIBLE.sub("", text).replace("\xa0", " ").replace("\t", " ")
    text = pat.LINE_TRAILING_SPACE.sub("", text)
    text = unwrap_hard_wraps(text)
    text = pat.MANY_BLANK_LINES.sub("\n\n", text)
    return text.strip()


def unwrap_hard_wraps(text: str) -> str:
    """Join lines broken inside sentences, as text pasted from a PDF has them.

    A text counts as hard-wrapped when many lines share the same full length and end
    without sentence punctuation; only then are such full lines joined to the next one,
    and page-number lines (``— 2 —``) dropped.
    """
    lines = text.split("\n")
    body = [ln for ln in lines if ln.strip() and not pat.PAGE_FURNITURE.match(ln)]
    if len(body) < 8:
        return text
    lengths = sorted(len(ln.strip()) for ln in body)
    full = lengths[int(len(lengths) * 0.9) - 1]
    if full < 16:
        return text
    wrapped = [ln for ln in body if len(ln.strip()) >= full - 3 and ln.rstrip()[-1] not in pat.SENTENCE_END]
    if len(wrapped) < 0.3 * len(body):
        return text
    out: list[str] = []
    last_physical: list[str] = []  # the last physical line of each entry of ``out``
    page_break = False  # a page-number line was dropped since the last text line
    for line in lines:
        if pat.PAGE_FURNITURE.match(line):
            page_break = True
            continue
        prev_index = len(out) - 1
        while prev_index >= 0 and not out[prev_index].strip():
            prev_index -= 1
        blanks = len(out) - 1 - prev_index
        if (
            prev_index >= 0
            and line.strip()
            and not pat.LINE_START_MARKER.match(line)
            and (blanks == 0 or page_break)
        ):
            tail = last_physical[prev_index].rstrip()
            if len(tail.strip()) >= 0.75 * full and tail[-1] not in pat.SENTENCE_END:
                del out[prev_index + 1 :], last_physical[prev_index + 1 :]
                out[prev_index] = out[prev_index].rstrip() + line.strip()
                last_physical[prev_index] = line
                page_break = False
                continue
        if line.strip():
            page_break = False
        out.append(line)
        last_physical.append(line)
    return "\n".join(out)


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def match_form(text: str) -> str:
    """Simplified characters and half-width punctuation, exactly as long as ``text``."""
    converter = _t2s()
    simplified = converter.convert(text)
    if len(simplified) != len(text):  # a phrase conversion changed the length: go char by char
        simplified = "".join(c if len(c := converter.convert(ch)) == 1 else ch for ch in text)
    return fold_widths(simplified)


def match_forms(texts: list[str]) -> list[str]:
    """``match_form`` of each text, for a batch of short texts (a worker's measures) at once.

    One OpenCC call and one scan instead of one of each per text. Exact: the texts are
    joined by line breaks, which no conversion phrase holds, so every text converts as it
    would alone; a batch whose texts hold line breaks themselves, or whose conversion
    changes a length, goes text by text.
    """
    if len(texts) < 2:
        return [match_form(t) for t in texts]
    pieces = _t2s().convert("\n".join(texts)).split("\n")
    if len(pieces) != len(texts) or any(len(a) != len(b) for a, b in zip(pieces, texts, strict=True)):
        return [match_form(t) for t in texts]
    return fold_widths("\n".join(pieces)).split("\n")


def fold_widths(text: str) -> str:
    """Full-width forms (！ to ～, and the ideographic space) as their ASCII characters.

    One ``str.replace`` per kind of full-width character present (a notice holds a dozen
    kinds, a hundred in all) instead of a Python call per character from ``re.sub`` or a
    lookup of every character by ``str.translate``. No replacement makes a character
    another would replace, so the order does not matter.
    """
    for ch in set(pat.FULL_WIDTH.findall(text)):
        text = text.replace(ch, _WIDTH_FOLD[ch])
    return text
