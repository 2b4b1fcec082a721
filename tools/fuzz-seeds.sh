#!/usr/bin/env bash
# fuzz-seeds.sh: writes the seeds of the verify_tree fuzz target (tests/fuzz/corpus/verify_tree/),
# which are whole trees packed in the target's archive form: bundle-framed (2-byte big-endian
# length) name, content, name, content, ... with checkpoints as unsigned bodies (the target
# signs them). The other targets' seeds are plain files committed as they are. Deterministic:
# running it again gives the same bytes.
#   spec_full      the spec's tessera-log tree: checkpoint, every archived checkpoint, every tile
#   spec_latest    the same tree with only the checkpoint and the tiles of its size
#   two_levels     257 one-byte entries, built here: a full tile, a partial one and a level-1 tile
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
spec=${SHARED_DIR:-$src/../shared}/spec/testdata/tessera-log
out=$src/tests/fuzz/corpus/verify_tree
mkdir -p "$out"
python3 - "$spec" "$out" <<'EOF'
import base64, hashlib, os, sys

spec, out = sys.argv[1], sys.argv[2]

def frame(b):
    assert len(b) < 65536
    return len(b).to_bytes(2, "big") + b

def archive(files):
    return b"".join(frame(n.encode()) + frame(c) for n, c in files)

def body(note):  # the checkpoint text before the blank line that ends it
    return note[: note.rindex(b"\n\n") + 1]

def read(rel):
    with open(os.path.join(spec, rel), "rb") as f:
        return f.read()

tiles = []
for root, _, names in os.walk(os.path.join(spec, "tile")):
    for n in names:
        rel = os.path.relpath(os.path.join(root, n), spec)
        tiles.append((rel, read(rel)))
tiles.sort()
archived = sorted(n for n in os.listdir(spec) if n.startswith("checkpoint."))
cp = body(read("checkpoint"))
size = int(cp.split(b"\n")[1])
full = [("checkpoint", cp)] + [(n, body(read(n))) for n in archived] + tiles
latest = [("checkpoint", cp)] + [t for t in tiles if t[0].endswith(".p/%d" % size)]

# RFC 6962 hashing for a tree of 257 one-byte entries.
leaf = lambda e: hashlib.sha256(b"\x00" + e).digest()
node = lambda l, r: hashlib.sha256(b"\x01" + l + r).digest()
def mth(hs):
    if len(hs) == 1:
        return hs[0]
    k = 1
    while k * 2 < len(hs):
        k *= 2
    return node(mth(hs[:k]), mth(hs[k:]))
entries = [bytes([i % 256]) for i in range(257)]
leaves = [leaf(e) for e in entries]
two = [
    ("checkpoint", b"example.com/log/testdata\n257\n" + base64.b64encode(mth(leaves)) + b"\n"),
    ("tile/0/000", b"".join(leaves[:256])),
    ("tile/0/001.p/1", leaves[256]),
    ("tile/1/000.p/1", mth(leaves[:256])),
    ("tile/entries/000", b"".join(frame(e) for e in entries[:256])),
    ("tile/entries/001.p/1", frame(entries[256])),
]

for name, files in (("spec_full", full), ("spec_latest", latest), ("two_levels", two)):
    with open(os.path.join(out, name), "wb") as f:
        f.write(archive(files))
EOF
ls -l "$out"
