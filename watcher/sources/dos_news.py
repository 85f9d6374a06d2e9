"""`dos_news`: the State Department's U.S. Visas News index
(https://travel.state.gov/content/travel/en/News/visas-news.html).

Interview waivers, pauses of immigrant-visa issuance, suspensions of visa issuance by nationality and reciprocity
changes are posted here the day they take effect, before any rule. The index is an HTML page (no feed), and the
site answers 403 to default user agents: the configured User-Agent, which names a contact, is what gets through.
Every article lives under /content/travel/en/News/visas-news/<name>.html, and that address is how an item is
recognised (sources/listing.py), not the page's layout. No recording of the index itself was found: the source
ships disabled until `watcher parse dos_news` on a saved copy of the live page lists its items.
"""

from __future__ import annotations

import re

from .listing import LinkListingSource


class StateVisaNewsSource(LinkListingSource, kind="dos_news"):
    BASE = "https://travel.state.gov/content/travel/en/News/visas-news.html"
    PATH = re.compile(r"^/content/travel/en/News/visas-news/[^/]+\.html$", re.IGNORECASE)
    ITEM_KIND = "visa_news"
    WHAT = "visa news items"
