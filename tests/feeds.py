"""Build a USCIS-style RSS document from real recorded items (tests/data/uscis_alerts_items.json)."""

from __future__ import annotations

import json
from pathlib import Path
from xml.sax.saxutils import escape

DATA = Path(__file__).parent / "data"


def uscis_items() -> list[dict]:
    return json.loads((DATA / "uscis_alerts_items.json").read_text())


def rss(items: list[dict], title: str = "USCIS Alerts") -> bytes:
    """The shape of the USCIS newsroom feeds: guid isPermaLink=false, raw pubDate, HTML description."""
    entries = "".join(
        f"<item><title>{escape(i['title'])}</title><link>{escape(i['link'])}</link>"
        f"<description>{escape(i['description'])}</description><category>{escape(i['category'])}</category>"
        f"<pubDate>{escape(i['pub_date'])}</pubDate>"
        f"<guid isPermaLink=\"false\">{escape(i['guid'])}</guid></item>"
        for i in items)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{escape(title)}</title>'
            f"<link>https://www.uscis.gov/newsroom</link><description>USCIS</description>{entries}"
            "</channel></rss>").encode()


def feed_posts(text: str) -> tuple[str, list[str], str]:
    """A recorded RSS document as its channel head, each <item>...</item> as recorded, and its closing tags."""
    head, rest = text.split("<item>", 1)
    posts, tail = ("<item>" + rest).rsplit("</item>", 1)
    return head, [post + "</item>" for post in posts.split("</item>")], tail
