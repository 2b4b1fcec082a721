"""The whole log of a store, read the way a client pages it: `ledgerfs log --json` from cursor 0
until `next` reaches `size`. Shared by the shell tests' python checks (PYTHONPATH=tests/cli/lib)."""
import json
import subprocess


def read_log(ledgerfs, store, limit=1000):
    """Returns (entries, size): every entry object in index order, and the log size."""
    entries, since = [], 0
    while True:
        out = subprocess.run([ledgerfs, "log", store, "--since", str(since), "--limit", str(limit),
                              "--json"], check=True, capture_output=True).stdout
        page = json.loads(out)
        entries += page["entries"]
        if page["next"] >= page["size"]:
            return entries, page["size"]
        since = page["next"]
