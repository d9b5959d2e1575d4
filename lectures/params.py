"""Numbers from query strings and forms, bounded before they reach the database.

`int()` of a digit string has no upper bound short of Python's 4,300-digit limit (beyond which
it raises ValueError), and a database does: PostgreSQL's bigint stops at 2**63 - 1, as does
SQLite's integer. An id or page number outside these bounds is a client's mistake (400, or
no such object), never a server error.
"""

MAX_ID = 2**63 - 1  # the largest primary key (BigAutoField) either database stores
# Search pages: far beyond what anyone reads (only the best 1,000 matches are ranked).
MAX_PAGE = 10_000


def parse_id(raw: str | None) -> int | None:
    """A positive database id from a query string or form; None if it cannot be one."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def parse_page(raw: str | None, *, maximum: int = MAX_PAGE) -> int:
    """A 1-based page number; anything that is not a positive number is page 1, and a number
    past `maximum` is `maximum` (a page with nothing on it)."""
    if raw is None or not raw.isascii() or not raw.isdigit():
        return 1
    if len(raw) > len(str(maximum)):
        return maximum
    return min(max(int(raw), 1), maximum)
