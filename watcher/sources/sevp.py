"""`sevp`: the Student and Exchange Visitor Program's news for schools and F-1/M-1 students (Study in the States,
https://studyinthestates.dhs.gov/blog): OPT and STEM OPT guidance, SEVIS changes, broadcast messages summarised
for designated school officials.

Study in the States files every post under /YYYY/MM/<name> ("/2013/11/here-help-international-education-week")
and lists them newest first with a <time datetime> per post; an item is recognised by that address
(sources/listing.py). No recording of the listing was found: the source ships disabled until `watcher parse sevp`
on a saved copy of the live page lists its posts.
"""

from __future__ import annotations

import re

from .listing import LinkListingSource


class SevpNewsSource(LinkListingSource, kind="sevp"):
    BASE = "https://studyinthestates.dhs.gov/blog"
    PATH = re.compile(r"^/(?:19|20)\d\d/(?:0[1-9]|1[0-2])/[A-Za-z0-9][A-Za-z0-9-]*/?$")
    ITEM_KIND = "sevp_news"
    WHAT = "SEVP posts"
