// Command tlogclient is an independent C2SP tlog-tiles client used by the interoperability test
// (tests/cli/interop_go.sh). It checks a log written by ledgerfs (or any other tlog-tiles log)
// with Go's golang.org/x/mod/sumdb/note and sumdb/tlog packages, which share no code with
// service-fs:
//
//   - the checkpoint is opened with note.Open and must carry a valid signature by -vkey;
//   - its body (origin, size, base64 root) is parsed here, per C2SP tlog-checkpoint;
//   - hash tiles are read through a tlog.TileReader that maps Go's tlog.Tile coordinates to
//     tlog-tiles paths (falling back to the full tile when a partial one was deleted), and
//     wrapped in tlog.TileHashReader, which checks the right-edge tiles against the root;
//   - every entry of every bundle gets a tlog.ProveRecord/tlog.CheckRecord inclusion proof,
//     and tlog.TreeHash must reproduce the root;
//   - each -old checkpoint must be consistent with the current one (tlog.ProveTree/CheckTree),
//     and the tiles it implies must still reproduce its root.
//
// The verdict rests on CheckRecord and CheckTree, which check every proof against the signed
// root, not on TileHashReader's tile authentication alone: in x/mod 0.7.0 (Debian 12) that
// reader starts its "authenticate full tiles against their parents" loop at len(stx), the number
// of subtree hashes of the root, rather than at the number of distinct tiles holding them. When
// several of those hashes share a tile (size 306 = 256+32+16+2, the last three all in
// tile/0/001.p/50), some full tiles it returns hashes from are never compared with their parent,
// and a tampered one is caught by CheckRecord ("invalid transparency proof") instead.
//
// Usage:
//
//	tlogclient -vkey VKEY (-dir STOREDIR | -url BASEURL [-header 'Name: value']...) [-old CHECKPOINTFILE]... [-origin O]
//
// With -url, every request carries each -header given (e.g. -header 'X-Module-ID: acme' for a
// service-fs daemon, docs/http.md); a response other than 200 or 404 is a read failure.
//
// Exit status: 0 if everything verified, 1 on any verification or read failure, 2 on bad usage.
package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// tileHeight is fixed by C2SP tlog-tiles; a full tile holds 2^8 hashes or entries.
const (
	tileHeight = 8
	tileWidth  = 1 << tileHeight
)

var errNotFound = errors.New("not found")

// source reads a log resource by its path relative to the log's prefix ("checkpoint",
// "tile/0/000", ...). A missing resource is reported as an error wrapping errNotFound.
type source interface {
	read(path string) ([]byte, error)
	describe() string
}

type dirSource struct{ dir string }

func (s dirSource) read(path string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, filepath.FromSlash(path)))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, errNotFound)
	}
	return b, err
}

func (s dirSource) describe() string { return s.dir }

type httpSource struct {
	base    string
	client  *http.Client
	headers http.Header // sent on every request
}

func (s httpSource) read(path string) ([]byte, error) {
	url := strings.TrimRight(s.base, "/") + "/" + path
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	for name, values := range s.headers {
		req.Header[name] = values
	}
	// The default transport asks for gzip and decompresses transparently, so both
	// Content-Encoding: gzip and identity are accepted, as tlog-tiles requires.
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, fmt.Errorf("%s: %w", url, errNotFound)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 64<<20))
}

func (s httpSource) describe() string { return s.base }

// indexPath writes a tile index as tlog-tiles path segments: zero-padded groups of three digits,
// every group but the last prefixed with "x" (1234067 -> "x001/x234/067", 0 -> "000").
func indexPath(n int64) string {
	p := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		p = fmt.Sprintf("x%03d/", n%1000) + p
	}
	return p
}

// tilePath is the tlog-tiles path of tile n at the given level ("0".."63" or "entries") with
// width w; only partial tiles (w < 256) get the ".p/<w>" suffix.
func tilePath(level string, n int64, w int) string {
	p := "tile/" + level + "/" + indexPath(n)
	if w < tileWidth {
		p += ".p/" + strconv.Itoa(w)
	}
	return p
}

// readTileFile reads a (possibly partial) tile or bundle. If the partial file named by the tree
// is missing, the full tile is read instead (tlog-tiles lets logs delete partials once the full
// tile exists, and lets clients fall back to it); the caller trims it. full reports which one.
func readTileFile(src source, level string, n int64, w int) (data []byte, full bool, err error) {
	data, err = src.read(tilePath(level, n, w))
	if err == nil || w == tileWidth || !errors.Is(err, errNotFound) {
		return data, false, err
	}
	data, err2 := src.read(tilePath(level, n, tileWidth))
	if err2 != nil {
		return nil, false, fmt.Errorf("%v (and the full tile: %v)", err, err2)
	}
	return data, true, nil
}

// tileReader implements tlog.TileReader over a tlog-tiles log. It only returns raw bytes;
// tlog.TileHashReader does the authentication. Files are cached by path, unauthenticated,
// because every ReadHashes call re-authenticates the tiles it uses.
type tileReader struct {
	src   source
	cache map[string][]byte
	reads int
}

func (r *tileReader) Height() int { return tileHeight }

func (r *tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		if t.H != tileHeight || t.L < 0 || t.L > 63 || t.N < 0 || t.W < 1 || t.W > tileWidth {
			return nil, fmt.Errorf("unexpected tile request %+v", t)
		}
		key := tilePath(strconv.Itoa(t.L), t.N, t.W)
		data, ok := r.cache[key]
		if !ok {
			var full bool
			var err error
			data, full, err = readTileFile(r.src, strconv.Itoa(t.L), t.N, t.W)
			if err != nil {
				return nil, err
			}
			r.reads++
			if full {
				if len(data) != tileWidth*tlog.HashSize {
					return nil, fmt.Errorf("%s: %d bytes, want %d", tilePath(strconv.Itoa(t.L), t.N, tileWidth),
						len(data), tileWidth*tlog.HashSize)
				}
				data = data[:t.W*tlog.HashSize]
			}
			if len(data) != t.W*tlog.HashSize {
				return nil, fmt.Errorf("%s: %d bytes, want %d", key, len(data), t.W*tlog.HashSize)
			}
			r.cache[key] = data
		}
		out[i] = data
	}
	return out, nil
}

func (r *tileReader) SaveTiles(tiles []tlog.Tile, data [][]byte) {}

// bundleReader returns the entries of a tree of a given size from its entry bundles.
type bundleReader struct {
	src     source
	size    int64
	bundles map[int64][][]byte
}

// parseBundle splits a bundle into its uint16-BE length-prefixed entries.
func parseBundle(b []byte) ([][]byte, error) {
	var entries [][]byte
	for len(b) > 0 {
		if len(b) < 2 {
			return nil, fmt.Errorf("truncated length prefix after entry %d", len(entries))
		}
		n := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		if len(b) < n {
			return nil, fmt.Errorf("entry %d: length %d but only %d bytes left", len(entries), n, len(b))
		}
		entries = append(entries, b[:n:n])
		b = b[n:]
	}
	return entries, nil
}

func (r *bundleReader) entry(i int64) ([]byte, error) {
	k := i / tileWidth
	entries, ok := r.bundles[k]
	if !ok {
		w := tileWidth
		if (k+1)*tileWidth > r.size {
			w = int(r.size - k*tileWidth)
		}
		data, full, err := readTileFile(r.src, "entries", k, w)
		if err != nil {
			return nil, err
		}
		name := tilePath("entries", k, w)
		if full {
			name = tilePath("entries", k, tileWidth)
		}
		entries, err = parseBundle(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		switch {
		case full && len(entries) != tileWidth:
			return nil, fmt.Errorf("%s: %d entries, want %d", name, len(entries), tileWidth)
		case !full && len(entries) != w:
			return nil, fmt.Errorf("%s: %d entries, want %d", name, len(entries), w)
		}
		entries = entries[:w]
		r.bundles = map[int64][][]byte{k: entries} // entries are read in order; keep one bundle
	}
	return entries[i%tileWidth], nil
}

// checkpoint is the parsed body of a C2SP tlog-checkpoint.
type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

// parseCheckpoint parses the text of a checkpoint note: origin, decimal size without leading
// zeros, standard padded base64 of the 32-byte root, then optional non-empty extension lines.
func parseCheckpoint(text string) (checkpoint, error) {
	var c checkpoint
	if !strings.HasSuffix(text, "\n") {
		return c, errors.New("checkpoint text does not end in a newline")
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) < 3 {
		return c, fmt.Errorf("checkpoint has %d lines, want at least 3", len(lines))
	}
	for i, l := range lines {
		if l == "" {
			return c, fmt.Errorf("checkpoint line %d is empty", i+1)
		}
	}
	c.origin = lines[0]
	s := lines[1]
	for _, ch := range s {
		if ch < '0' || ch > '9' {
			return c, fmt.Errorf("checkpoint size %q is not decimal", s)
		}
	}
	if len(s) > 1 && s[0] == '0' {
		return c, fmt.Errorf("checkpoint size %q has leading zeros", s)
	}
	size, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return c, fmt.Errorf("checkpoint size %q: %v", s, err)
	}
	c.size = size
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize || base64.StdEncoding.EncodeToString(root) != lines[2] {
		return c, fmt.Errorf("checkpoint root %q is not the base64 of 32 bytes", lines[2])
	}
	copy(c.root[:], root)
	return c, nil
}

// openCheckpoint verifies a checkpoint note's signature and parses its body.
func openCheckpoint(what string, msg []byte, verifiers note.Verifiers, origin string) (checkpoint, error) {
	n, err := note.Open(msg, verifiers)
	if err != nil {
		return checkpoint{}, fmt.Errorf("%s: %v", what, err)
	}
	c, err := parseCheckpoint(n.Text)
	if err != nil {
		return checkpoint{}, fmt.Errorf("%s: %v", what, err)
	}
	if c.origin != origin {
		return checkpoint{}, fmt.Errorf("%s: origin %q, want %q", what, c.origin, origin)
	}
	return c, nil
}

var emptyRoot = tlog.Hash(sha256.Sum256(nil))

type oldFlags []string

func (o *oldFlags) String() string     { return strings.Join(*o, ",") }
func (o *oldFlags) Set(s string) error { *o = append(*o, s); return nil }

// headerFlags collects repeated -header 'Name: value' flags.
type headerFlags struct{ h http.Header }

func (f *headerFlags) String() string {
	var parts []string
	for name, values := range f.h {
		for _, v := range values {
			parts = append(parts, name+": "+v)
		}
	}
	return strings.Join(parts, ", ")
}

func (f *headerFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, ":")
	name = strings.TrimSpace(name)
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return fmt.Errorf("%q is not 'Name: value'", s)
	}
	if f.h == nil {
		f.h = http.Header{}
	}
	f.h.Add(name, strings.TrimSpace(value))
	return nil
}

func run() error {
	var (
		vkey    = flag.String("vkey", "", "verifier key of the log (signed-note vkey)")
		dir     = flag.String("dir", "", "the log's store folder (holds checkpoint and tile/)")
		url     = flag.String("url", "", "the log's URL prefix (instead of -dir)")
		origin  = flag.String("origin", "", "expected checkpoint origin (default: the key's name)")
		olds    oldFlags
		headers headerFlags
	)
	flag.Var(&olds, "old", "an older checkpoint file that must be consistent with the current one (repeatable)")
	flag.Var(&headers, "header", "with -url: a 'Name: value' header sent on every request (repeatable)")
	flag.Parse()
	if *vkey == "" || (*dir == "") == (*url == "") || flag.NArg() != 0 || (*dir != "" && headers.h != nil) {
		flag.Usage()
		os.Exit(2)
	}

	verifier, err := note.NewVerifier(*vkey)
	if err != nil {
		return fmt.Errorf("-vkey: %v", err)
	}
	verifiers := note.VerifierList(verifier)
	if *origin == "" {
		*origin = verifier.Name()
	}

	var src source = dirSource{*dir}
	if *url != "" {
		src = httpSource{*url, &http.Client{Timeout: 60 * time.Second}, headers.h}
	}

	msg, err := src.read("checkpoint")
	if err != nil {
		return fmt.Errorf("reading checkpoint: %v", err)
	}
	cp, err := openCheckpoint("checkpoint", msg, verifiers, *origin)
	if err != nil {
		return err
	}

	tr := &tileReader{src: src, cache: map[string][]byte{}}
	hr := tlog.TileHashReader(tlog.Tree{N: cp.size, Hash: cp.root}, tr)

	if cp.size == 0 {
		if cp.root != emptyRoot {
			return fmt.Errorf("checkpoint: size 0 but root %v is not SHA-256 of the empty string", cp.root)
		}
	} else {
		th, err := tlog.TreeHash(cp.size, hr)
		if err != nil {
			return fmt.Errorf("tree hash of size %d: %v", cp.size, err)
		}
		if th != cp.root {
			return fmt.Errorf("tree hash of size %d is %v, checkpoint says %v", cp.size, th, cp.root)
		}
	}

	// An inclusion proof for every entry, against the signed root.
	br := &bundleReader{src: src, size: cp.size}
	var proofs int64
	for i := int64(0); i < cp.size; i++ {
		e, err := br.entry(i)
		if err != nil {
			return fmt.Errorf("entry %d: %v", i, err)
		}
		p, err := tlog.ProveRecord(cp.size, i, hr)
		if err != nil {
			return fmt.Errorf("entry %d: inclusion proof: %v", i, err)
		}
		if err := tlog.CheckRecord(p, cp.size, cp.root, i, tlog.RecordHash(e)); err != nil {
			return fmt.Errorf("entry %d: inclusion proof does not verify: %v", i, err)
		}
		proofs++
	}

	// Consistency of each older checkpoint with the current one.
	for _, f := range olds {
		oldMsg, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("-old: %v", err)
		}
		old, err := openCheckpoint(f, oldMsg, verifiers, cp.origin)
		if err != nil {
			return err
		}
		switch {
		case old.size > cp.size:
			return fmt.Errorf("%s: size %d is larger than the current checkpoint's %d", f, old.size, cp.size)
		case old.size == 0:
			if old.root != emptyRoot {
				return fmt.Errorf("%s: size 0 but root %v is not SHA-256 of the empty string", f, old.root)
			}
		default:
			p, err := tlog.ProveTree(cp.size, old.size, hr)
			if err != nil {
				return fmt.Errorf("%s: consistency proof %d -> %d: %v", f, old.size, cp.size, err)
			}
			if err := tlog.CheckTree(p, cp.size, cp.root, old.size, old.root); err != nil {
				return fmt.Errorf("%s: size %d is not consistent with size %d: %v", f, old.size, cp.size, err)
			}
			// The tiles that the old checkpoint implies must still reproduce its root.
			ohr := tlog.TileHashReader(tlog.Tree{N: old.size, Hash: old.root}, tr)
			th, err := tlog.TreeHash(old.size, ohr)
			if err != nil {
				return fmt.Errorf("%s: tree hash of size %d from its tiles: %v", f, old.size, err)
			}
			if th != old.root {
				return fmt.Errorf("%s: tiles give root %v for size %d, want %v", f, th, old.size, old.root)
			}
		}
		fmt.Printf("consistent: %s (size %d) -> size %d\n", f, old.size, cp.size)
	}

	fmt.Printf("ok: %s size %d, %d inclusion proofs verified\n", cp.origin, cp.size, proofs)
	return nil
}

func main() {
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: tlogclient -vkey VKEY (-dir STOREDIR | -url BASEURL [-header 'Name: value']...) [-old CHECKPOINT]... [-origin ORIGIN]\n")
		flag.PrintDefaults()
	}
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "tlogclient: FAIL: %v\n", err)
		os.Exit(1)
	}
}
