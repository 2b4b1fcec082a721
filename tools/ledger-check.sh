#!/bin/sh
# ledger-check.sh STORE: checks a service-fs store (or any tlog-tiles tree) with nothing but a POSIX
# shell, od, dd, awk, sed, tail, wc and sha256sum (and base64 for the checkpoint's root), following
# docs/format.md:
#   - reads `checkpoint` (origin, size N, base64 root);
#   - reads every entry bundle of size N (uint16 big-endian length + entry), recomputes each leaf
#     hash SHA-256(0x00 || entry) and compares it with the level-0 hash tiles;
#   - recomputes every level-1+ tile from the full tiles below it (node = SHA-256(0x01 || l || r))
#     and compares; recomputes the root of the N entries and compares it with the checkpoint's;
#   - checks every older partial tile and bundle (tile/.../N.p/W) is a prefix of what N publishes;
#   - for every record manifest ("service-fs/record/v1"), checks content/<2 hex>/<64 hex> exists
#     with the manifest's size and SHA-256. Entries that are not manifests are accepted.
# It does NOT check the checkpoint's Ed25519 signature (a shell cannot): `ledgerfs verify` does.
# Exit 0 if everything holds; 1 with a message naming the offending file otherwise; 2 on misuse.
# Slow (a few processes per entry): meant for stores of hundreds or thousands of entries.

set -u

if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  echo "usage: ledger-check.sh STORE" >&2
  exit 2
fi
store=$1
[ -d "$store" ] || { echo "ledger-check: $store: not a folder" >&2; exit 2; }

tmp=$(mktemp -d 2>/dev/null) || {
  tmp=${TMPDIR:-/tmp}/ledger-check.$$
  mkdir -m 700 "$tmp" || exit 2
}
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' INT TERM HUP

fail() {
  printf 'ledger-check: %s: %s\n' "$store" "$*" >&2
  exit 1
}

# ---- helpers ---------------------------------------------------------------------------------

# index_path N: the tlog-tiles spelling of a tile index (1234067 -> x001/x234/067).
index_path() {
  _n=$1
  _p=$(printf '%03d' $((_n % 1000)))
  _n=$((_n / 1000))
  while [ "$_n" -gt 0 ]; do
    _p=$(printf 'x%03d' $((_n % 1000)))/$_p
    _n=$((_n / 1000))
  done
  printf '%s\n' "$_p"
}

# tile_name DIR INDEX WIDTH: "tile/DIR/<index path>" or, if WIDTH < 256, ".../<index>.p/WIDTH".
tile_name() {
  if [ "$3" -eq 256 ]; then
    printf 'tile/%s/%s\n' "$1" "$(index_path "$2")"
  else
    printf 'tile/%s/%s.p/%s\n' "$1" "$(index_path "$2")" "$3"
  fi
}

# sha_files FILE...: the SHA-256 of each file, one lowercase hex line each, in argument order.
sha_files() {
  [ $# -eq 0 ] && return 0
  sha256sum "$@" | awk '{ print substr($0, 1, 64) }'
}

# to_octal: each hex line on stdin becomes a line of printf octal escapes (\ooo per byte).
to_octal() {
  awk '
    function hv(c) { return index("0123456789abcdef", c) - 1 }
    {
      s = ""
      for (i = 1; i < length($0); i += 2) s = s sprintf("\\%03o", hv(substr($0, i, 1)) * 16 + hv(substr($0, i + 1, 1)))
      print s
    }'
}

# pair_up IN OUT: IN holds 2k hex hashes, one a line; OUT gets the k parents SHA-256(0x01||l||r).
pair_up() {
  pu_out=$2
  to_octal <"$1" | awk 'NR % 2 == 1 { l = $0; next } { print l $0 }' >"$tmp/esc"
  set --
  pu_k=0
  while IFS= read -r pu_e; do
    pu_k=$((pu_k + 1))
    printf "\\001$pu_e" >"$tmp/node.$pu_k"
    set -- "$@" "$tmp/node.$pu_k"
  done <"$tmp/esc"
  sha_files "$@" >"$pu_out"
}

# reduce FILE TIMES: replaces FILE (2^TIMES hashes) by the root of the perfect tree over them.
reduce() {
  rd_r=$2
  while [ "$rd_r" -gt 0 ]; do
    pair_up "$1" "$tmp/reduced"
    cat "$tmp/reduced" >"$1"
    rd_r=$((rd_r - 1))
  done
}

# lines FILE FIRST COUNT: COUNT lines of FILE from line FIRST (1-based).
lines() {
  [ "$3" -gt 0 ] || return 0
  sed -n "$2,$(($2 + $3 - 1))p" "$1"
}

# tile_hex FILE: the 32-byte hashes of a hash tile as hex lines.
tile_hex() {
  od -An -tx1 -v "$1" | tr -d ' \n' | awk '{ for (i = 1; i <= length($0); i += 64) print substr($0, i, 64) }'
}

# compare WANT GOT NAME WHAT: fails naming NAME at the first line where GOT differs from WANT.
compare() {
  cmp_d=$(awk 'NR == FNR { w[NR] = $0; n = NR; next }
              { m = FNR; if (!(FNR in w) || w[FNR] != $0) { print FNR - 1; exit } }
              END { if (m + 0 != n + 0) print (m + 0 < n + 0 ? m + 0 : n + 0) }' "$1" "$2" | sed -n 1p)
  [ -z "$cmp_d" ] || fail "$3: hash $cmp_d differs from the recomputed $4"
}

contents=0

# note_manifest LEAFFILE INDEX BUNDLE LENGTH: LEAFFILE is 0x00 || entry INDEX (LENGTH bytes) of
# BUNDLE. An entry that starts with the line "service-fs/record/v1" is a record manifest; for a
# file record, "<content name> <size> <sha256> <index>" is added to $tmp/contents.
note_manifest() {
  [ "$4" -ge 21 ] || return 0 # shorter than the magic line and its '\n'
  tail -c +2 "$1" | awk '
    NR == 1 { if ($0 != "service-fs/record/v1") { other = 1; exit } next }
    NR == 2 { kind = ($0 ~ /^kind /) ? substr($0, 6) : "?" }
    /^size / { size = substr($0, 6) }
    /^sha256 / { sha = substr($0, 8) }
    END { if (other) print "-"; else { print kind; print size; print sha } }' >"$tmp/fields"
  {
    IFS= read -r nm_kind
    IFS= read -r nm_size
    IFS= read -r nm_sha
  } <"$tmp/fields"
  case $nm_kind in
    -) return 0 ;;
    directory) return 0 ;;
    file) ;;
    *) fail "$3: entry $2: a record manifest with an unknown kind '$nm_kind'" ;;
  esac
  case $nm_size in '' | *[!0-9]*) fail "$3: entry $2: manifest size '$nm_size' is not a number" ;; esac
  case $nm_sha in
    *[!0-9a-f]* | '') fail "$3: entry $2: manifest sha256 '$nm_sha' is not lowercase hex" ;;
  esac
  [ ${#nm_sha} -eq 64 ] || fail "$3: entry $2: manifest sha256 is not 64 hex digits"
  printf 'content/%s/%s %s %s %s\n' "${nm_sha%"${nm_sha#??}"}" "$nm_sha" "$nm_size" "$nm_sha" \
    "$2" >>"$tmp/contents"
}

# check_contents BUNDLE: every content file listed in $tmp/contents (from BUNDLE's manifests)
# exists with the stated size and SHA-256; one wc and one sha256sum for the whole list.
check_contents() {
  [ -s "$tmp/contents" ] || return 0
  set --
  while read -r cc_name cc_size cc_sha cc_index; do
    [ -f "$store/$cc_name" ] || fail "$cc_name: missing (content of entry $cc_index in $1)"
    set -- "$@" "$cc_name"
  done <"$tmp/contents"
  (cd "$store" && wc -c "$@") >"$tmp/sizes" || fail "content: cannot read"
  (cd "$store" && sha256sum "$@") >"$tmp/sums" || fail "content: cannot read"
  cc_err=$(awk -v bundle="$1" '
    FILENAME == ARGV[1] { name[FNR] = $1; size[FNR] = $2; sha[FNR] = $3; idx[FNR] = $4; n = FNR; next }
    FILENAME == ARGV[2] { have[FNR] = $1; next }
    { got[FNR] = substr($0, 1, 64) }
    END {
      for (i = 1; i <= n; i++) {
        at = "entry " idx[i] " in " bundle
        if (have[i] != size[i]) { print name[i] ": " have[i] " bytes, " at " says " size[i]; exit }
        if (got[i] != sha[i]) { print name[i] ": SHA-256 is " got[i] ", " at " says " sha[i]; exit }
      }
    }' "$tmp/contents" "$tmp/sizes" "$tmp/sums")
  [ -z "$cc_err" ] || fail "$cc_err"
  contents=$((contents + $#))
  : >"$tmp/contents"
}

# bundle_leaves NAME WANT FIRST OUT: parses bundle NAME (WANT entries, the first with index FIRST)
# into $tmp/frames ("<offset> <length>" per entry), writes the entries' leaf hashes to OUT and
# notes their record manifests.
bundle_leaves() {
  bl_name=$1
  bl_out=$4
  bl_i=$3
  bl_f="$store/$1"
  [ -f "$bl_f" ] || fail "$1: missing"
  od -An -tu1 -v "$bl_f" | awk -v want="$2" '
    {
      for (i = 1; i <= NF; i++) {
        if (state == 0) { hi = $i; state = 1 }
        else if (state == 1) {
          len = hi * 256 + $i; start = pos + 1; k++
          if (len > 0) { state = 2; left = len } else state = 0
          print start, len
        } else if (--left == 0) state = 0
        pos++
      }
    }
    END {
      if (state == 1) print "ERR", "a torn length at byte " pos - 1
      else if (state == 2) print "ERR", "a torn entry at byte " start - 2
      else if (k != want) print "ERR", "holds " k " entries, expected " want
    }' >"$tmp/frames"
  bl_err=$(sed -n 's/^ERR //p' "$tmp/frames")
  [ -z "$bl_err" ] || fail "$bl_name: $bl_err"
  set --
  while read -r bl_off bl_len; do
    { printf '\000'; dd if="$bl_f" bs=1 skip="$bl_off" count="$bl_len" 2>/dev/null; } >"$tmp/leaf.$bl_i"
    note_manifest "$tmp/leaf.$bl_i" "$bl_i" "$bl_name" "$bl_len"
    set -- "$@" "$tmp/leaf.$bl_i"
    bl_i=$((bl_i + 1))
  done <"$tmp/frames"
  sha_files "$@" >"$bl_out"
  rm -f "$@"
}

# check_tile LEVEL INDEX WIDTH: tile (LEVEL, INDEX) at WIDTH holds hashes of h<LEVEL>.
check_tile() {
  ct_name=$(tile_name "$1" "$2" "$3")
  [ -f "$store/$ct_name" ] || fail "$ct_name: missing"
  ct_bytes=$(wc -c <"$store/$ct_name" | tr -d ' ')
  [ "$ct_bytes" -eq $(($3 * 32)) ] || fail "$ct_name: $ct_bytes bytes, expected $(($3 * 32))"
  tile_hex "$store/$ct_name" >"$tmp/got"
  lines "$tmp/h$1" $(($2 * 256 + 1)) "$3" >"$tmp/want"
  if [ "$1" -eq 0 ]; then
    compare "$tmp/want" "$tmp/got" "$ct_name" \
      "leaf hash of its entry in $(tile_name entries "$2" "$3") (or that bundle is damaged)"
  else
    compare "$tmp/want" "$tmp/got" "$ct_name" "hash of the full tile below"
  fi
  tiles=$((tiles + 1))
}

# ---- 1. the checkpoint -----------------------------------------------------------------------

[ -f "$store/checkpoint" ] || fail "checkpoint: missing"
origin=$(sed -n 1p "$store/checkpoint")
size=$(sed -n 2p "$store/checkpoint")
root_b64=$(sed -n 3p "$store/checkpoint")
case $size in
  '' | *[!0-9]*) fail "checkpoint: line 2 '$size' is not a tree size" ;;
  0?*) fail "checkpoint: line 2 '$size' has leading zeros" ;;
esac
root_hex=$(printf '%s' "$root_b64" | base64 -d 2>/dev/null | od -An -tx1 -v | tr -d ' \n')
[ ${#root_hex} -eq 64 ] || fail "checkpoint: line 3 is not a base64 SHA-256 hash"

# ---- 2. entry bundles -> leaf hashes (h0), record contents -----------------------------------

: >"$tmp/h0"
bundles=0
b=0
while [ $((b * 256)) -lt "$size" ]; do
  w=$((size - b * 256))
  [ "$w" -gt 256 ] && w=256
  name=$(tile_name entries "$b" "$w")
  : >"$tmp/contents"
  bundle_leaves "$name" "$w" $((b * 256)) "$tmp/leaves"
  check_contents "$name"
  cat "$tmp/leaves" >>"$tmp/h0"
  cat "$tmp/frames" >"$tmp/frames.$b"
  bundles=$((bundles + 1))
  b=$((b + 1))
done

# ---- 3. hash tiles, level by level; h<L+1> from the full tiles of level L --------------------

tiles=0
level=0
n=$size
while [ "$n" -gt 0 ]; do
  t=0
  while [ $((t * 256)) -lt "$n" ]; do
    w=$((n - t * 256))
    [ "$w" -gt 256 ] && w=256
    check_tile "$level" "$t" "$w"
    t=$((t + 1))
  done
  : >"$tmp/h$((level + 1))"
  t=0
  while [ $(((t + 1) * 256)) -le "$n" ]; do
    lines "$tmp/h$level" $((t * 256 + 1)) 256 >"$tmp/group"
    reduce "$tmp/group" 8
    cat "$tmp/group" >>"$tmp/h$((level + 1))"
    t=$((t + 1))
  done
  level=$((level + 1))
  n=$((n / 256))
done
levels=$level

# ---- 4. the root: the perfect subtrees of `size`, largest first, folded from the right ----------

if [ "$size" -eq 0 ]; then
  root=$(printf '' | sha256sum | awk '{ print substr($0, 1, 64) }')
else
  : >"$tmp/peaks"
  h=0
  while [ $((size >> (h + 1))) -gt 0 ]; do h=$((h + 1)); done
  start=0
  while [ "$h" -ge 0 ]; do
    if [ $(((size >> h) & 1)) -eq 1 ]; then
      l=$((h / 8))
      r=$((h - 8 * l))
      lines "$tmp/h$l" $(((start >> (8 * l)) + 1)) $((1 << r)) >"$tmp/sub"
      reduce "$tmp/sub" "$r"
      cat "$tmp/sub" >>"$tmp/peaks"
      start=$((start + (1 << h)))
    fi
    h=$((h - 1))
  done
  # Fold: root = node(p1, node(p2, ... node(p_{k-1}, p_k))).
  awk '{ p[NR] = $0 } END { for (i = NR; i >= 1; i--) print p[i] }' "$tmp/peaks" >"$tmp/rpeaks"
  root=
  while IFS= read -r p; do
    if [ -z "$root" ]; then
      root=$p
    else
      printf '%s\n%s\n' "$p" "$root" >"$tmp/pair"
      pair_up "$tmp/pair" "$tmp/parent"
      root=$(cat "$tmp/parent")
    fi
  done <"$tmp/rpeaks"
fi
[ "$root" = "$root_hex" ] ||
  fail "checkpoint: root $root_b64 is not the root recomputed from the $size entries"

# ---- 5. older partial tiles and bundles: prefixes of what size N publishes ----------------------

partials=0
if [ -d "$store/tile" ]; then
  (cd "$store" && find tile -type f -path '*.p/*') >"$tmp/partials" || fail "tile: cannot list"
  while IFS= read -r name; do
    # tile/<L or entries>/<index path>.p/<W>
    dir=$(printf '%s\n' "$name" | sed -n 's|^tile/\([^/]*\)/.*$|\1|p')
    idx=$(printf '%s\n' "$name" | sed -n 's|^tile/[^/]*/\(.*\)\.p/[0-9]*$|\1|p' | tr -d 'x/' |
      sed 's/^0*//')
    w=$(printf '%s\n' "$name" | sed -n 's|^.*\.p/\([1-9][0-9]*\)$|\1|p')
    idx=${idx:-0}
    { [ -n "$dir" ] && [ -n "$w" ] && [ "$w" -lt 256 ]; } || fail "$name: not a tile path"
    if [ "$dir" = entries ]; then
      l=0
    else
      case $dir in '' | *[!0-9]* | 0?*) fail "$name: not a tile path" ;; esac
      l=$dir
    fi
    [ "$name" = "$(tile_name "$dir" "$idx" "$w")" ] || fail "$name: not a tile path"
    have=0
    [ -f "$tmp/h$l" ] && have=$(($(wc -l <"$tmp/h$l") - idx * 256))
    [ "$have" -ge "$w" ] || fail "$name: not covered by the checkpoint (size $size)"
    [ "$have" -eq "$w" ] && continue # the current right edge, checked above
    if [ "$dir" = entries ]; then
      # The first W frames of the current bundle, byte for byte.
      cur=$(tile_name entries "$idx" $((have > 256 ? 256 : have)))
      end=$(sed -n "${w}p" "$tmp/frames.$idx" | awk '{ print $1 + $2 }')
      got=$(wc -c <"$store/$name" | tr -d ' ')
      [ "$got" = "$end" ] || fail "$name: $got bytes, not the $end bytes of the first $w entries of $cur"
      [ "$(sha_files "$store/$name")" = "$(dd if="$store/$cur" bs="$end" count=1 2>/dev/null | sha_files -)" ] ||
        fail "$name: is not a prefix of $cur (its entries differ)"
    else
      check_tile "$l" "$idx" "$w"
      tiles=$((tiles - 1))
    fi
    partials=$((partials + 1))
  done <"$tmp/partials"
fi

echo "ledger-check: OK: $origin size $size, root $root_b64: $bundles bundles, $tiles tiles" \
  "($levels levels), $partials older partials, $contents content files checked." \
  "The checkpoint's signature is not checked here: run 'ledgerfs verify'."
exit 0
