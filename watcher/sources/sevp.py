"""`sevp` and `sevp_broadcasts`: the Student and Exchange Visitor Program's news for schools and F-1/M-1 students
(Study in the States, https://studyinthestates.dhs.gov/blog): OPT and STEM OPT guidance, SEVIS changes, broadcast
messages summarised for designated school officials.

Study in the States files every post under /YYYY/MM/<name> ("/2013/11/here-help-international-education-week")
and lists them newest first with a <time datetime> per post; an item is recognised by that address
(sources/listing.py). No recording of the listing was found: the source ships disabled until `watcher parse sevp`
on a saved copy of the live page lists its posts.

`sevp_broadcasts` reads ICE's SEVIS "What's New" page (https://www.ice.gov/sevis/whats-new) for SEVP's broadcast
messages to school officials, which ICE posts as PDFs named by their number, /doclib/sevis/pdf/bcm2608-01.pdf (also
written bcm260801.pdf and bcm_260802.pdf). The number is read from the file name. No recording of that page was
found either: it ships disabled on the same terms.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..models import Change
from .listing import LinkListingSource

_NUMBER = re.compile(r"bcm[_-]?(\d{2})(\d{2})[_-]?(\d{2})\.pdf$", re.IGNORECASE)


class SevpNewsSource(LinkListingSource, kind="sevp"):
    BASE = "https://studyinthestates.dhs.gov/blog"
    PATH = re.compile(r"^/(?:19|20)\d\d/(?:0[1-9]|1[0-2])/[A-Za-z0-9][A-Za-z0-9-]*/?$")
    ITEM_KIND = "sevp_news"
    WHAT = "SEVP posts"


class SevpBroadcastsSource(LinkListingSource, kind="sevp_broadcasts"):
    BASE = "https://www.ice.gov/sevis/whats-new"
    PATH = re.compile(r"^/doclib/sevis/pdf/bcm[_-]?\d{4}[_-]?\d{2}\.pdf$", re.IGNORECASE)
    ITEM_KIND = "sevp_broadcast"
    WHAT = "SEVP broadcast messages"

    def _item(self, url, anchors, block) -> Change | None:
        change = super()._item(url, anchors, block)
        number = _NUMBER.search(url)
        if change is None or number is None:
            return change
        return replace(change, facts={**change.facts, "broadcast": "{}{}-{}".format(*number.groups())})
