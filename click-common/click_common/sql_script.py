"""A file of SQL statements taken apart: ClickHouse's HTTP interface runs one statement per request."""

from __future__ import annotations


def split_statements(script: str) -> list[str]:
    """Split SQL on `;` outside quotes and `--` comments (comments dropped; empty pieces kept)."""
    out, buf, quote, i = [], [], "", 0
    while i < len(script):
        ch = script[i]
        if quote:
            buf.append(ch)
            if ch == "\\":
                buf.append(script[i + 1 : i + 2])
                i += 1
            elif ch == quote:
                quote = ""
        elif script.startswith("--", i):
            end = script.find("\n", i)
            i = len(script) if end < 0 else end
            continue
        elif ch in "'\"`":
            quote = ch
            buf.append(ch)
        elif ch == ";":
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    out.append("".join(buf))
    return out


def statements(script: str) -> list[str]:
    """The non-empty statements of `script`, stripped."""
    return [s.strip() for s in split_statements(script) if s.strip()]
