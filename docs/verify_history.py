"""Check a workshop's public history against a chain head you archived (standard library only).

    python3 verify_history.py https://<site> <workshop code> [archived_chain_head.json]

It downloads the day's whole public chain from the open data, recomputes every hash
(SHA-256 of the previous hash followed by the statement text), checks that the chain reaches
today's published head, that an archived head (if given) is still on it, and prints the
workshop's statements. Any record rewritten, removed or slipped in makes it fail.
"""

import hashlib
import json
import sys
import urllib.request


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as r:
        return r.read()


def main(site: str, code: str, archived: str | None = None) -> int:
    site = site.rstrip("/")
    latest = json.loads(get(f"{site}/open-data/latest.json"))
    head = json.loads(get(f"{site}/open-data/chain_head.json"))["head"]
    lines = get(f"{site}/open-data/{latest['public_history']}").decode("utf-8").splitlines()
    prev, by_seq = None, {}
    for n, line in enumerate(lines, 1):
        e = json.loads(line)
        if e["seq"] != n or e["prev_hash"] != prev:
            print(f"第 {n} 条：链接断开")
            return 1
        if hashlib.sha256(((prev or "") + e["statement"]).encode()).hexdigest() != e["hash"]:
            print(f"第 {n} 条：内容与哈希不符")
            return 1
        prev, by_seq[e["seq"]] = e["hash"], e
    if head and (head["seq"] != len(lines) or head["hash"] != prev):
        print("公开记录与今天公布的链头不符")
        return 1
    if archived:
        old = json.load(open(archived, encoding="utf-8"))
        old = old.get("head", old)
        if by_seq.get(old["seq"], {}).get("hash") != old["hash"]:
            print(f"您保存的链头（第 {old['seq']} 条）已不在链上：此前的记录被改动过")
            return 1
    mine = json.loads(get(f"{site}/api/v1/workshops/{code}/history"))["entries"]
    for e in mine:
        if e["seq"] > len(lines):
            print(e["seq"], e["statement"], "（今天公布之后记录，明天的公开数据可核验）")
            continue
        if by_seq.get(e["seq"], {}).get("hash") != e["hash"]:
            print(f"作坊记录第 {e['seq']} 条与公开数据不符")
            return 1
        print(e["seq"], e["statement"])
    print(f"核验通过：{len(lines)} 条公开记录，链头 {prev}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
