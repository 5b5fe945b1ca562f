#!/usr/bin/env python3
"""Check the Debian Reference question sets against the installed HTML.

Standard library only. Usage:

    python3 eval/debian-reference/check.py [--root DIR] [--stats] [-v]

For every questions.<lang>.json next to this script it verifies that
  * ids are unique, in-scope ids look like q###, out-of-scope ids like x###,
    in-scope entries have a non-empty "expect" and an "evidence", and
    out-of-scope entries have "expect": [];
  * every expected page exists under --root (default /usr/share/debian-reference);
  * every expected section id exists in that page as a heading anchor
    (<hN class="title"><a id="..."/>), i.e. it starts a passage;
  * the evidence words occur in the passage of one of the expected sections
    (text from that heading up to the next heading). If they are only found
    in a sub-section or in the neighbouring passage, the entry passes but is
    reported as "near";
  * all language files carry the same question ids and expect the same
    section ids (page names differ only in the language suffix).
Exit status is 0 when everything passes, 1 otherwise.
"""
import argparse
import glob
import html.parser
import json
import os
import re
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = "/usr/share/debian-reference"
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
SKIP_DIV_CLASSES = {"navheader", "navfooter", "toc"}
# End tags after which a space is inserted so words of adjacent blocks don't merge.
BLOCK_TAGS = HEADINGS | {"p", "div", "td", "th", "tr", "li", "dt", "dd", "pre", "br",
                         "table", "ul", "ol", "dl", "blockquote", "caption"}


class PageParser(html.parser.HTMLParser):
    """Splits one DocBook HTML page into passages at heading anchors."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.all_ids = set()
        self.passages = []  # list of [section_id, level, text_parts]
        self.cur = [None, 0, []]
        self.in_heading = None
        self.skip_depth = 0  # >0 while inside navigation / toc divs

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.all_ids.add(a["id"])
        if tag == "div":
            if self.skip_depth:
                self.skip_depth += 1
            elif a.get("class") in SKIP_DIV_CLASSES:
                self.skip_depth = 1
        if tag in HEADINGS and "title" in (a.get("class") or "").split():
            self.in_heading = tag
        if tag == "a" and self.in_heading and "id" in a:
            self.passages.append(self.cur)
            self.cur = [a["id"], int(self.in_heading[1]), []]

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in BLOCK_TAGS:
            self.cur[2].append(" ")
        if tag == "div" and self.skip_depth:
            self.skip_depth -= 1

    def handle_endtag(self, tag):
        if tag == "div" and self.skip_depth:
            self.skip_depth -= 1
        if tag == self.in_heading:
            self.in_heading = None
        if tag in BLOCK_TAGS:
            self.cur[2].append(" ")

    def handle_data(self, data):
        if not self.skip_depth:
            self.cur[2].append(data)

    def close(self):
        super().close()
        self.passages.append(self.cur)


def norm(s):
    s = unicodedata.normalize("NFKC", s)
    s = s.replace("\u00a0", " ")
    for q in "\u201c\u201d\u201e\u00ab\u00bb\u2039\u203a":
        s = s.replace(q, '"')
    for q in "\u2018\u2019\u201a":
        s = s.replace(q, "'")
    s = re.sub(r"\s+", " ", s)
    return s.strip().casefold()


class Page:
    def __init__(self, path):
        p = PageParser()
        with open(path, encoding="utf-8") as f:
            p.feed(f.read())
        p.close()
        self.all_ids = p.all_ids
        self.order = []  # section ids in document order
        self.level = {}
        self.text = {}
        for sid, level, parts in p.passages:
            if sid is None:
                continue
            self.order.append(sid)
            self.level[sid] = level
            self.text[sid] = norm("".join(parts))

    def subtree_text(self, sid):
        i = self.order.index(sid)
        out = [self.text[sid]]
        for other in self.order[i + 1:]:
            if self.level[other] <= self.level[sid]:
                break
            out.append(self.text[other])
        return " ".join(out)

    def neighbours_text(self, sid):
        i = self.order.index(sid)
        return " ".join(self.text[s] for s in self.order[max(0, i - 1):i + 2])


def lang_of(path):
    m = re.search(r"questions\.([A-Za-z_-]+)\.json$", path)
    return m.group(1) if m else "?"


def page_key(page):
    # "ch02.de.html" -> "ch02" so languages can be compared
    return page.split(".")[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=DEFAULT_ROOT)
    ap.add_argument("--stats", action="store_true", help="print corpus statistics")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    if not os.path.isdir(args.root):
        print(f"FAIL: {args.root} does not exist; install the debian-reference-* packages")
        return 1

    pages = {}

    def get_page(name):
        if name not in pages:
            path = os.path.join(args.root, name)
            pages[name] = Page(path) if os.path.isfile(path) else None
        return pages[name]

    files = sorted(glob.glob(os.path.join(HERE, "questions.*.json")))
    if not files:
        print("FAIL: no questions.*.json found")
        return 1

    failures = 0
    near = 0
    shape = {}  # lang -> {qid: [sorted (pagekey, section)]}
    for path in files:
        lang = lang_of(path)
        with open(path, encoding="utf-8") as f:
            items = json.load(f)
        seen = set()
        n_in = n_out = 0
        shape[lang] = {}
        for it in items:
            qid = it.get("id", "")
            where = f"{lang}:{qid}"
            if qid in seen:
                print(f"FAIL {where}: duplicate id")
                failures += 1
            seen.add(qid)
            if not it.get("question", "").strip():
                print(f"FAIL {where}: empty question")
                failures += 1
            expect = it.get("expect")
            if not isinstance(expect, list):
                print(f"FAIL {where}: 'expect' must be a list")
                failures += 1
                continue
            if re.fullmatch(r"x\d{3}", qid):
                n_out += 1
                if expect:
                    print(f"FAIL {where}: out-of-scope entry with expectations")
                    failures += 1
                shape[lang][qid] = []
                continue
            if not re.fullmatch(r"q\d{3}", qid):
                print(f"FAIL {where}: id must be q### or x###")
                failures += 1
                continue
            n_in += 1
            if not expect:
                print(f"FAIL {where}: in-scope entry without expectations")
                failures += 1
                continue
            ev = norm(it.get("evidence", ""))
            if len(ev.split()) < 3:
                print(f"FAIL {where}: evidence missing or too short")
                failures += 1
            status = None
            for e in expect:
                page = get_page(e["page"])
                if page is None:
                    print(f"FAIL {where}: page {e['page']} not found under {args.root}")
                    failures += 1
                    continue
                sid = e["section"]
                if sid not in page.all_ids:
                    print(f"FAIL {where}: id {sid} not in {e['page']}")
                    failures += 1
                    continue
                if sid not in page.text:
                    print(f"FAIL {where}: id {sid} in {e['page']} is not a heading anchor")
                    failures += 1
                    continue
                if ev and ev in page.text[sid]:
                    status = "ok"
                elif ev and status is None and (
                        ev in page.subtree_text(sid) or ev in page.neighbours_text(sid)):
                    status = "near"
            if status is None:
                print(f"FAIL {where}: evidence not found in expected section(s): {it.get('evidence')!r}")
                failures += 1
            elif status == "near":
                print(f"near {where}: evidence found next to, not inside, {expect[0]['section']}")
                near += 1
            elif args.verbose:
                print(f"ok   {where}")
            shape[lang][qid] = sorted((page_key(e["page"]), e["section"]) for e in expect)
        print(f"{lang}: {n_in} in-scope, {n_out} out-of-scope questions checked")

    langs = sorted(shape)
    for lang in langs[1:]:
        ref = langs[0]
        if set(shape[lang]) != set(shape[ref]):
            diff = sorted(set(shape[lang]) ^ set(shape[ref]))
            print(f"FAIL: ids differ between {ref} and {lang}: {diff[:10]}")
            failures += 1
        for qid in set(shape[lang]) & set(shape[ref]):
            if shape[lang][qid] != shape[ref][qid]:
                print(f"FAIL {lang}:{qid}: expected sections differ from {ref}")
                failures += 1

    if args.stats:
        for name in sorted(n for n in os.listdir(args.root) if n.endswith(".html")):
            pg = get_page(name)
            if pg is None or not pg.order:
                continue
            sizes = [len(pg.text[s]) for s in pg.order]
            print(f"  {name}: {len(pg.order)} passages, {sum(sizes)} chars, "
                  f"largest {max(sizes)} chars")

    print(f"{'PASS' if failures == 0 else 'FAIL'}: {failures} failure(s), {near} near match(es)"
          f" across {len(files)} file(s)")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
