// Command sumdb-server is a real checksum database for the tests of
// lib/sumdb: the toolchain's own golang.org/x/mod/sumdb server (sumdb.NewServer
// over sumdb.NewTestServer) on a loopback port, plus two small side doors.
//
// test/support/sumdbServer.ts builds it at test time against a temporary copy
// of the toolchain's vendored golang.org/x/mod. Only this file is ours and kept
// in the repository.
//
// Flags: -skey <signer key> signs with a given key (to run a second database
// with the same key but another history); otherwise a key named -name is
// generated. On start it prints one JSON line to stdout:
//
//	{"url": "http://127.0.0.1:port", "vkey": "...", "skey": "..."}
//
// Besides the sumdb paths (/latest, /lookup/, /tile/) it serves:
//
//	POST /_control/add    go.sum lines; each module version among them becomes
//	                      one record, appended at once in order of appearance.
//	                      Answers {"ids": [...], "size": N}.
//	POST /_control/bulk   ?prefix=P&from=I&count=K adds K made-up records at
//	                      once, for module P/m<i> v1.0.0 with i = I..I+K-1,
//	                      whose hashes are h1:base64(SHA-256("zip <i>")) and
//	                      h1:base64(SHA-256("mod <i>")). Answers like add.
//	POST /_control/gone   lines "path@version": lookups of those answer 410.
//	POST /_control/record ?module=path@version adds one record for it whose
//	                      text is the body, verbatim (lines about other
//	                      versions, other hash kinds, two hashes, or none).
//	                      Answers like add.
//	POST /_oracle         {"op": ..., ...}: answers questions about note and
//	                      tlog (see oracle below), used to make test vectors
//	                      and to compare the TypeScript port with the original.
//
// Integers that may be large travel as decimal strings; bytes as base64.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type state struct {
	mu    sync.Mutex
	sums  map[string][]byte // path@version -> record text (go.sum lines)
	gone  map[string]bool   // escaped path@version -> answer 410
	tests *sumdb.TestServer
}

func (s *state) gosum(path, vers string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.sums[path+"@"+vers]
	if !ok {
		return nil, os.ErrNotExist
	}
	return data, nil
}

func main() {
	skey := flag.String("skey", "", "signer key (default: generate one)")
	name := flag.String("name", "sumdb.test", "key name when generating")
	flag.Parse()
	log.SetFlags(0)

	vkey := ""
	if *skey == "" {
		var err error
		*skey, vkey, err = note.GenerateKey(rand.Reader, *name)
		if err != nil {
			log.Fatal(err)
		}
	} else {
		vkey = verifierKeyOf(*skey)
	}

	s := &state{sums: map[string][]byte{}, gone: map[string]bool{}}
	s.tests = sumdb.NewTestServer(*skey, s.gosum)
	srv := sumdb.NewServer(s.tests)

	mux := http.NewServeMux()
	for _, p := range sumdb.ServerPaths {
		mux.Handle(p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasPrefix(r.URL.Path, "/lookup/") {
				s.mu.Lock()
				g := s.gone[strings.TrimPrefix(r.URL.Path, "/lookup/")]
				s.mu.Unlock()
				if g {
					http.Error(w, "gone", http.StatusGone)
					return
				}
			}
			srv.ServeHTTP(w, r)
		}))
	}
	mux.HandleFunc("/_control/add", s.add)
	mux.HandleFunc("/_control/bulk", s.bulk)
	mux.HandleFunc("/_control/record", s.record)
	mux.HandleFunc("/_control/gone", s.markGone)
	mux.HandleFunc("/_oracle", oracleHandler)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	hello, _ := json.Marshal(map[string]string{"url": "http://" + ln.Addr().String(), "vkey": vkey, "skey": *skey})
	fmt.Printf("%s\n", hello)

	// Exit when the test closes our stdin, so no server outlives its test.
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	log.Fatal(http.Serve(ln, mux))
}

// verifierKeyOf derives the verifier key that goes with a signer key.
func verifierKeyOf(skey string) string {
	// PRIVATE+KEY+<name>+<hash>+<base64(alg || seed)>
	f := strings.SplitN(skey, "+", 5)
	if len(f) != 5 {
		log.Fatal("malformed -skey")
	}
	raw, err := base64.StdEncoding.DecodeString(f[4])
	if err != nil || len(raw) != 33 || raw[0] != 1 {
		log.Fatal("malformed -skey")
	}
	vkey, err := note.NewEd25519VerifierKey(f[2], ed25519.NewKeyFromSeed(raw[1:]).Public().(ed25519.PublicKey))
	if err != nil {
		log.Fatal(err)
	}
	return vkey
}

func (s *state) add(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	type group struct {
		path, vers string
		text       []byte
	}
	var groups []*group
	byKey := map[string]*group{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			http.Error(w, "bad go.sum line "+strconv.Quote(line), http.StatusBadRequest)
			return
		}
		vers := strings.TrimSuffix(f[1], "/go.mod")
		key := f[0] + "@" + vers
		g := byKey[key]
		if g == nil {
			g = &group{path: f[0], vers: vers}
			byKey[key] = g
			groups = append(groups, g)
		}
		g.text = append(g.text, line+"\n"...)
	}
	ids := []string{}
	for _, g := range groups {
		s.mu.Lock()
		s.sums[g.path+"@"+g.vers] = g.text
		s.mu.Unlock()
		id, err := s.tests.Lookup(context.Background(), module.Version{Path: g.path, Version: g.vers})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	writeJSON(w, map[string]any{"ids": ids, "size": strconv.FormatInt(s.size(), 10)})
}

func (s *state) record(w http.ResponseWriter, r *http.Request) {
	path, vers, ok := strings.Cut(r.URL.Query().Get("module"), "@")
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if !ok || err != nil {
		http.Error(w, "want ?module=path@version and a body", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.sums[path+"@"+vers] = body
	s.mu.Unlock()
	id, err := s.tests.Lookup(context.Background(), module.Version{Path: path, Version: vers})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]any{"ids": []string{strconv.FormatInt(id, 10)}, "size": strconv.FormatInt(s.size(), 10)})
}

func (s *state) bulk(w http.ResponseWriter, r *http.Request) {
	prefix := r.URL.Query().Get("prefix")
	from, err1 := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
	count, err2 := strconv.ParseInt(r.URL.Query().Get("count"), 10, 64)
	if prefix == "" || err1 != nil || err2 != nil || from < 0 || count < 0 || count > 1<<20 {
		http.Error(w, "want prefix, from, count", http.StatusBadRequest)
		return
	}
	first := int64(-1)
	for i := from; i < from+count; i++ {
		path := fmt.Sprintf("%s/m%d", prefix, i)
		zh := sha256.Sum256([]byte(fmt.Sprintf("zip %d", i)))
		mh := sha256.Sum256([]byte(fmt.Sprintf("mod %d", i)))
		text := fmt.Sprintf("%s v1.0.0 h1:%s\n%s v1.0.0/go.mod h1:%s\n", path, b64(zh[:]), path, b64(mh[:]))
		s.mu.Lock()
		s.sums[path+"@v1.0.0"] = []byte(text)
		s.mu.Unlock()
		id, err := s.tests.Lookup(context.Background(), module.Version{Path: path, Version: "v1.0.0"})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if first < 0 {
			first = id
		}
	}
	writeJSON(w, map[string]any{"first": strconv.FormatInt(first, 10), "size": strconv.FormatInt(s.size(), 10)})
}

// size is the size of the tree the server signs now.
func (s *state) size() int64 {
	signed, err := s.tests.Signed(context.Background())
	if err != nil {
		return -1
	}
	n, err := note.Open(signed, nil)
	if e, ok := err.(*note.UnverifiedNoteError); ok {
		n = e.Note
	}
	if n == nil {
		return -1
	}
	t, err := tlog.ParseTree([]byte(n.Text))
	if err != nil {
		return -1
	}
	return t.N
}

func (s *state) markGone(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, line := range strings.Split(string(body), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		i := strings.LastIndex(line, "@")
		if i < 0 {
			http.Error(w, "want path@version", http.StatusBadRequest)
			return
		}
		ep, err1 := module.EscapePath(line[:i])
		ev, err2 := module.EscapeVersion(line[i+1:])
		if err1 != nil || err2 != nil {
			http.Error(w, "bad path@version", http.StatusBadRequest)
			return
		}
		s.gone[ep+"@"+ev] = true
	}
	writeJSON(w, map[string]any{})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// ---------------------------------------------------------------------------
// Oracle

type oracleReq struct {
	Op string `json:"op"`

	Name    string     `json:"name"`
	SKeys   []string   `json:"skeys"`
	VKeys   []string   `json:"vkeys"`
	Text    string     `json:"text"`
	Msg     string     `json:"msg"`  // base64
	Msgs    []string   `json:"msgs"` // base64
	Records []string   `json:"records"`
	Sizes   []string   `json:"sizes"`
	Pairs   [][]string `json:"pairs"`
	Tiles   [][]string `json:"tiles"` // H, L, N, W
	Paths   []string   `json:"paths"`
	Indexes []string   `json:"indexes"`
	Proof   []string   `json:"proof"` // base64 hashes
	T       string     `json:"t"`
	N       string     `json:"n"`
	TH      string     `json:"th"` // base64
	H       string     `json:"h"`  // base64
}

func oracleHandler(w http.ResponseWriter, r *http.Request) {
	var req oracleReq
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<20)).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp := func() (resp any) {
		defer func() {
			if e := recover(); e != nil {
				resp = map[string]any{"panic": fmt.Sprint(e)}
			}
		}()
		return oracle(&req)
	}()
	writeJSON(w, resp)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func unb64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func i64(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		panic(err)
	}
	return n
}

func str64(n int64) string { return strconv.FormatInt(n, 10) }

func hashList(hs []tlog.Hash) []string {
	out := []string{}
	for _, h := range hs {
		out = append(out, b64(h[:]))
	}
	return out
}

func parseHash(s string) tlog.Hash {
	var h tlog.Hash
	b := unb64(s)
	if len(b) != tlog.HashSize {
		panic("bad hash length")
	}
	copy(h[:], b)
	return h
}

func errResult(err error) map[string]any {
	return map[string]any{"err": err.Error(), "type": fmt.Sprintf("%T", err)}
}

func sigList(sigs []note.Signature) []any {
	out := []any{}
	for _, s := range sigs {
		out = append(out, map[string]any{"name": s.Name, "hash": fmt.Sprintf("%08x", s.Hash), "b64": s.Base64})
	}
	return out
}

func tileOf(f []string) tlog.Tile {
	h, _ := strconv.Atoi(f[0])
	l, _ := strconv.Atoi(f[1])
	w, _ := strconv.Atoi(f[3])
	return tlog.Tile{H: h, L: l, N: i64(f[2]), W: w}
}

// memHashes is a tlog.HashReader over a slice of stored hashes.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("index %d out of range", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

func buildTree(records []string) memHashes {
	var hs memHashes
	for i, r := range records {
		more, err := tlog.StoredHashes(int64(i), unb64(r), hs)
		if err != nil {
			panic(err)
		}
		hs = append(hs, more...)
	}
	return hs
}

func oracle(q *oracleReq) any {
	switch q.Op {
	case "genkey":
		skey, vkey, err := note.GenerateKey(rand.Reader, q.Name)
		if err != nil {
			return errResult(err)
		}
		return map[string]any{"skey": skey, "vkey": vkey}

	case "verifier":
		v, err := note.NewVerifier(q.Text)
		if err != nil {
			return errResult(err)
		}
		return map[string]any{"name": v.Name(), "hash": fmt.Sprintf("%08x", v.KeyHash())}

	case "sign":
		var signers []note.Signer
		for _, k := range q.SKeys {
			s, err := note.NewSigner(k)
			if err != nil {
				return errResult(err)
			}
			signers = append(signers, s)
		}
		msg, err := note.Sign(&note.Note{Text: q.Text}, signers...)
		if err != nil {
			return errResult(err)
		}
		return map[string]any{"msg": b64(msg)}

	case "open":
		// One answer per message in msgs, each checked against vkeys.
		var vs []note.Verifier
		for _, k := range q.VKeys {
			v, err := note.NewVerifier(k)
			if err != nil {
				return errResult(err)
			}
			vs = append(vs, v)
		}
		known := note.VerifierList(vs...)
		out := []any{}
		for _, m := range q.Msgs {
			n, err := note.Open(unb64(m), known)
			if err != nil {
				out = append(out, errResult(err))
				continue
			}
			out = append(out, map[string]any{"text": b64([]byte(n.Text)), "sigs": sigList(n.Sigs), "unverified": sigList(n.UnverifiedSigs)})
		}
		return out

	case "parse-tree":
		out := []any{}
		for _, m := range q.Msgs {
			t, err := tlog.ParseTree(unb64(m))
			if err != nil {
				out = append(out, errResult(err))
				continue
			}
			out = append(out, map[string]any{"n": str64(t.N), "hash": b64(t.Hash[:])})
		}
		return out

	case "parse-record":
		out := []any{}
		for _, m := range q.Msgs {
			id, text, rest, err := tlog.ParseRecord(unb64(m))
			if err != nil {
				out = append(out, errResult(err))
				continue
			}
			out = append(out, map[string]any{"id": str64(id), "text": b64(text), "rest": b64(rest)})
		}
		return out

	case "format-record":
		out := []any{}
		for _, m := range q.Msgs {
			msg, err := tlog.FormatRecord(i64(q.N), unb64(m))
			if err != nil {
				out = append(out, errResult(err))
				continue
			}
			out = append(out, b64(msg))
		}
		return out

	case "stored-index":
		out := []string{}
		for _, p := range q.Pairs {
			l, _ := strconv.Atoi(p[0])
			out = append(out, str64(tlog.StoredHashIndex(l, i64(p[1]))))
		}
		return out

	case "split-index":
		out := [][]string{}
		for _, x := range q.Indexes {
			l, n := tlog.SplitStoredHashIndex(i64(x))
			out = append(out, []string{strconv.Itoa(l), str64(n)})
		}
		return out

	case "stored-count":
		out := []string{}
		for _, x := range q.Sizes {
			out = append(out, str64(tlog.StoredHashCount(i64(x))))
		}
		return out

	case "tile-for-index":
		out := [][]string{}
		h, _ := strconv.Atoi(q.N)
		for _, x := range q.Indexes {
			t := tlog.TileForIndex(h, i64(x))
			out = append(out, []string{strconv.Itoa(t.H), strconv.Itoa(t.L), str64(t.N), strconv.Itoa(t.W)})
		}
		return out

	case "tile-paths":
		out := []string{}
		for _, f := range q.Tiles {
			out = append(out, tileOf(f).Path())
		}
		return out

	case "parse-tile-paths":
		out := []any{}
		for _, p := range q.Paths {
			t, err := tlog.ParseTilePath(p)
			if err != nil {
				out = append(out, errResult(err))
				continue
			}
			out = append(out, []string{strconv.Itoa(t.H), strconv.Itoa(t.L), str64(t.N), strconv.Itoa(t.W)})
		}
		return out

	case "new-tiles":
		// pairs: [h, old, new]
		out := [][]string{}
		for _, p := range q.Pairs {
			h, _ := strconv.Atoi(p[0])
			var list []string
			for _, t := range tlog.NewTiles(h, i64(p[1]), i64(p[2])) {
				list = append(list, t.Path())
			}
			out = append(out, list)
		}
		return out

	case "tree":
		// A log of the given records: tree hashes at sizes, record and tree
		// proofs for pairs [kind, t, n] (kind "record" or "tree"), and the
		// data of tiles.
		hs := buildTree(q.Records)
		hashes := []string{}
		for _, s := range q.Sizes {
			h, err := tlog.TreeHash(i64(s), hs)
			if err != nil {
				return errResult(err)
			}
			hashes = append(hashes, b64(h[:]))
		}
		proofs := []any{}
		for _, p := range q.Pairs {
			t, n := i64(p[1]), i64(p[2])
			var list []tlog.Hash
			var err error
			if p[0] == "record" {
				list, err = tlog.ProveRecord(t, n, hs)
			} else {
				list, err = tlog.ProveTree(t, n, hs)
			}
			if err != nil {
				proofs = append(proofs, errResult(err))
				continue
			}
			proofs = append(proofs, hashList(list))
		}
		tiles := []any{}
		for _, f := range q.Tiles {
			t := tileOf(f)
			data, err := tlog.ReadTileData(t, hs)
			if err != nil {
				tiles = append(tiles, errResult(err))
				continue
			}
			tiles = append(tiles, map[string]any{"path": t.Path(), "data": b64(data)})
		}
		return map[string]any{"hashes": hashes, "proofs": proofs, "tiles": tiles, "stored": len(hs)}

	case "check-record":
		err := tlog.CheckRecord(proofOf(q.Proof), i64(q.T), parseHash(q.TH), i64(q.N), parseHash(q.H))
		if err != nil {
			return errResult(err)
		}
		return map[string]any{"ok": true}

	case "check-tree":
		err := tlog.CheckTree(proofOf(q.Proof), i64(q.T), parseHash(q.TH), i64(q.N), parseHash(q.H))
		if err != nil {
			return errResult(err)
		}
		return map[string]any{"ok": true}
	}
	return map[string]any{"err": "unknown op " + q.Op}
}

func proofOf(list []string) []tlog.Hash {
	out := []tlog.Hash{}
	for _, s := range list {
		out = append(out, parseHash(s))
	}
	return out
}
