"""Walk an Intercom workspace with the official Python client (python-intercom 5.0.1).

    walk.py BASE_URL [--version 2.16|2.14|none] [--token TOKEN]

Lists every company (the scroll iterator and the companies/list pager), every contact
(auto-paging), and the tickets of a simple search (paged by hand through the client: its
auto-pager loops, see walk_ticket_search), then prints one JSON object on stdout:

    {"client": "python-intercom 5.0.1", "version": "2.16",
     "companies_scroll": {"count": N, "ids": [...], "pages": P},
     "companies_list": {...}, "contacts": {...}, "tickets": {...}}

Exits non-zero, with the request and the error on stderr, when the client fails.
`--version none` sends no Intercom-Version header, as the client does by default.
"""

import argparse
import json
import sys
import traceback


MAX_PAGES = 1000


def page_ids(items):
    ids = []
    for item in items or []:
        item_id = getattr(item, "id", None)
        if not isinstance(item_id, str) or not item_id:
            raise AssertionError(f"an item without a string id: {item!r}")
        ids.append(item_id)
    return ids


class Collected:
    """Ids gathered page by page, refusing a pager that goes round in circles: a page
    made only of items already seen, or more pages than any walk here needs."""

    def __init__(self):
        self.ids, self.seen, self.pages = [], set(), 0

    def add(self, got, where):
        self.pages += 1
        if got and all(i in self.seen for i in got):
            raise AssertionError(f"{where} page {self.pages} repeats items already seen (first {got[0]}): the pager loops")
        if self.pages > MAX_PAGES:
            raise AssertionError(f"more than {MAX_PAGES} pages")
        self.ids.extend(got)
        self.seen.update(got)

    def summary(self):
        return {"count": len(self.ids), "ids": self.ids, "pages": self.pages}


def walk(pager):
    """All items of an SDK pager, page by page, and the number of pages it fetched."""
    collected = Collected()
    for page in pager.iter_pages():
        collected.add(page_ids(page.items), "the SDK pager's")
    return collected.summary()


def walk_ticket_search(client, query):
    """Ticket search, page by page through the client, following pages.next.starting_after.

    Not the SDK's auto-pager: in python-intercom 5.0.1 `tickets.search`'s get_next
    re-sends the original `pagination` instead of the new cursor
    (intercom/tickets/raw_client.py, `_get_next = lambda: self.search(query=query,
    pagination=pagination, ...)`), so it fetches the first page forever."""
    collected, cursor = Collected(), None
    while True:
        pagination = {"per_page": 50} if cursor is None else {"per_page": 50, "starting_after": cursor}
        pager = client.tickets.search(query=query, pagination=pagination)
        collected.add(page_ids(pager.items), f"ticket search (cursor {cursor!r})")
        response = pager.response
        nxt = response.pages.next if response is not None and response.pages is not None else None
        cursor = getattr(nxt, "starting_after", None) if nxt is not None else None
        if not cursor:
            return collected.summary()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base_url")
    parser.add_argument("--version", default="2.16")
    parser.add_argument("--token", default="sandbox-token")
    args = parser.parse_args()

    try:
        import intercom
        from intercom import Intercom
    except ImportError as e:
        print(f"python-intercom is not installed: {e}", file=sys.stderr)
        return 3

    headers = {} if args.version == "none" else {"Intercom-Version": args.version}
    client = Intercom(token=args.token, base_url=args.base_url, headers=headers, timeout=30)

    summary = {"client": f"python-intercom {getattr(intercom, '__version__', '5.0.1')}", "version": args.version}
    steps = [
        ("companies_scroll", "GET /companies/scroll (client.companies.scroll)", lambda: walk(client.companies.scroll())),
        ("companies_list", "POST /companies/list (client.companies.list)", lambda: walk(client.companies.list(per_page=50))),
        ("contacts", "GET /contacts (client.contacts.list)", lambda: walk(client.contacts.list())),
        (
            "tickets",
            "POST /tickets/search (client.tickets.search, created_at > 0)",
            lambda: walk_ticket_search(client, {"field": "created_at", "operator": ">", "value": 0}),
        ),
    ]
    for key, what, step in steps:
        try:
            summary[key] = step()
        except Exception as e:  # the client's own errors carry the status and body
            status = getattr(e, "status_code", None)
            body = getattr(e, "body", None)
            print(f"{what} failed with {type(e).__name__}: status={status} body={body!r}", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)
            return 1
    json.dump(summary, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
