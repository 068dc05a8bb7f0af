// Command xmod-oracle answers questions about Go's own module rules so that
// the TypeScript ports in lib/gomod can be tested differentially.
//
// test/support/xmodOracle.ts builds it at test time against a temporary copy
// of the toolchain's vendored golang.org/x/mod (plus copies of
// internal/gover and cmd/go/internal/gover/gomod.go, and a one-line shim that
// exports zip.strToFold). Nothing but this file is kept in the repository.
//
// Protocol: one JSON request per line on stdin,
//
//	{"op": "semver.Compare", "args": ["v1.0.0", "v1.0.1"]}
//
// and one JSON response per line on stdout, in order:
//
//	{"r": <result>} | {"err": <error info>} | {"panic": "<text>"}
//
// A string argument is either a JSON string or {"b": "<base64 bytes>"} (used
// for bytes that are not valid UTF-8, such as the WTF-8 encoding of a lone
// surrogate). A result string that is not valid UTF-8 is sent the same way,
// so no byte is lost to JSON's U+FFFD substitution.
package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/zip"

	cmdgover "modproxy.test/xmodoracle/cmdgover"
	"modproxy.test/xmodoracle/gover"
)

type request struct {
	Op   string            `json:"op"`
	Args []json.RawMessage `json:"args"`
}

// enc encodes a Go string for the response without losing bytes.
func enc(s string) any {
	if utf8.ValidString(s) {
		return s
	}
	return map[string]string{"b": base64.StdEncoding.EncodeToString([]byte(s))}
}

func encList(list []string) []any {
	out := make([]any, len(list))
	for i, s := range list {
		out[i] = enc(s)
	}
	return out
}

// errInfo describes err, including the fields of x/mod's structured errors
// so that the TypeScript error classes can be checked field by field.
func errInfo(err error) map[string]any {
	m := map[string]any{"msg": enc(err.Error()), "type": fmt.Sprintf("%T", err)}
	switch e := err.(type) {
	case *module.ModuleError:
		m["path"] = enc(e.Path)
		m["version"] = enc(e.Version)
		m["err"] = errInfo(e.Err)
	case *module.InvalidVersionError:
		m["version"] = enc(e.Version)
		m["pseudo"] = e.Pseudo
		m["err"] = errInfo(e.Err)
	case *module.InvalidPathError:
		m["kind"] = e.Kind
		m["path"] = enc(e.Path)
		m["err"] = errInfo(e.Err)
	}
	return m
}

type args []json.RawMessage

func (a args) bytes(i int) []byte {
	var s string
	if err := json.Unmarshal(a[i], &s); err == nil {
		return []byte(s)
	}
	var b struct{ B string }
	if err := json.Unmarshal(a[i], &b); err != nil {
		panic(fmt.Sprintf("arg %d: want string or {b}: %v", i, err))
	}
	data, err := base64.StdEncoding.DecodeString(b.B)
	if err != nil {
		panic(err)
	}
	return data
}

func (a args) str(i int) string { return string(a.bytes(i)) }

func (a args) int(i int) int64 {
	var n int64
	if err := json.Unmarshal(a[i], &n); err != nil {
		panic(fmt.Sprintf("arg %d: want integer: %v", i, err))
	}
	return n
}

func (a args) strs(i int) []string {
	var raw []json.RawMessage
	if err := json.Unmarshal(a[i], &raw); err != nil {
		panic(fmt.Sprintf("arg %d: want list: %v", i, err))
	}
	out := make([]string, len(raw))
	for j := range raw {
		out[j] = args(raw).str(j)
	}
	return out
}

// result turns a (value, error) pair into a response.
func result(v any, err error) map[string]any {
	if err != nil {
		return map[string]any{"err": errInfo(err)}
	}
	return map[string]any{"r": v}
}

func handle(op string, a args) (resp map[string]any) {
	defer func() {
		if e := recover(); e != nil {
			resp = map[string]any{"panic": fmt.Sprint(e)}
		}
	}()
	switch op {
	// golang.org/x/mod/semver
	case "semver.IsValid":
		return result(semver.IsValid(a.str(0)), nil)
	case "semver.Canonical":
		return result(enc(semver.Canonical(a.str(0))), nil)
	case "semver.Major":
		return result(enc(semver.Major(a.str(0))), nil)
	case "semver.Prerelease":
		return result(enc(semver.Prerelease(a.str(0))), nil)
	case "semver.Build":
		return result(enc(semver.Build(a.str(0))), nil)
	case "semver.Compare":
		return result(semver.Compare(a.str(0), a.str(1)), nil)
	case "semver.Sort":
		list := a.strs(0)
		semver.Sort(list)
		return result(encList(list), nil)

	// golang.org/x/mod/module
	case "module.CheckPath":
		return result(nil, module.CheckPath(a.str(0)))
	case "module.CheckFilePath":
		return result(nil, module.CheckFilePath(a.str(0)))
	case "module.SplitPathVersion":
		prefix, pathMajor, ok := module.SplitPathVersion(a.str(0))
		return result(map[string]any{"prefix": enc(prefix), "pathMajor": enc(pathMajor), "ok": ok}, nil)
	case "module.CheckPathMajor":
		return result(nil, module.CheckPathMajor(a.str(0), a.str(1)))
	case "module.MatchPathMajor":
		return result(module.MatchPathMajor(a.str(0), a.str(1)), nil)
	case "module.PathMajorPrefix":
		return result(enc(module.PathMajorPrefix(a.str(0))), nil)
	case "module.CanonicalVersion":
		return result(enc(module.CanonicalVersion(a.str(0))), nil)
	case "module.Check":
		return result(nil, module.Check(a.str(0), a.str(1)))
	case "module.EscapePath":
		s, err := module.EscapePath(a.str(0))
		return result(enc(s), err)
	case "module.EscapeVersion":
		s, err := module.EscapeVersion(a.str(0))
		return result(enc(s), err)
	case "module.UnescapePath":
		s, err := module.UnescapePath(a.str(0))
		return result(enc(s), err)
	case "module.UnescapeVersion":
		s, err := module.UnescapeVersion(a.str(0))
		return result(enc(s), err)

	// golang.org/x/mod/module pseudo-versions
	case "module.PseudoVersion":
		t := time.Unix(a.int(2), a.int(3))
		return result(enc(module.PseudoVersion(a.str(0), a.str(1), t, a.str(4))), nil)
	case "module.IsPseudoVersion":
		return result(module.IsPseudoVersion(a.str(0)), nil)
	case "module.PseudoVersionTime":
		t, err := module.PseudoVersionTime(a.str(0))
		// Milliseconds since the epoch, as a JS Date holds it.
		return result(t.UnixMilli(), err)
	case "module.PseudoVersionRev":
		s, err := module.PseudoVersionRev(a.str(0))
		return result(enc(s), err)
	case "module.PseudoVersionBase":
		s, err := module.PseudoVersionBase(a.str(0))
		return result(enc(s), err)

	// golang.org/x/mod/modfile
	case "modfile.ModulePath":
		return result(enc(modfile.ModulePath(a.bytes(0))), nil)
	case "modfile.AutoQuote":
		return result(enc(modfile.AutoQuote(a.str(0))), nil)
	case "modfile.ParseLax":
		f, err := modfile.ParseLax("go.mod", a.bytes(0), nil)
		if err != nil {
			return result(nil, err)
		}
		out := map[string]any{}
		if f.Module != nil {
			out["module"] = enc(f.Module.Mod.Path)
		}
		if f.Go != nil {
			out["go"] = enc(f.Go.Version)
		}
		retract := []any{}
		for _, r := range f.Retract {
			retract = append(retract, map[string]any{"low": enc(r.Low), "high": enc(r.High), "rationale": enc(r.Rationale)})
		}
		out["retract"] = retract
		return result(out, nil)

	// internal/gover and cmd/go/internal/gover
	case "gover.Compare":
		return result(gover.Compare(a.str(0), a.str(1)), nil)
	case "gover.Lang":
		return result(enc(gover.Lang(a.str(0))), nil)
	case "gover.GoModLookup":
		return result(enc(cmdgover.GoModLookup(a.bytes(0), a.str(1))), nil)

	// golang.org/x/mod/sumdb/dirhash
	case "dirhash.Hash1":
		names := a.strs(0)
		var raw []json.RawMessage
		if err := json.Unmarshal(a[1], &raw); err != nil {
			panic(err)
		}
		content := map[string][]byte{}
		for i, name := range names {
			content[name] = args(raw).bytes(i)
		}
		open := func(name string) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(content[name])), nil
		}
		h, err := dirhash.Hash1(names, open)
		return result(enc(h), err)

	// A downloaded module zip as the go command takes it: dirhash.HashZip's
	// h1 (what it compares with go.sum and the checksum database) and
	// zip.CheckZip's verdict (its rules for the files in it).
	case "zip.HashAndCheck":
		f, err := os.CreateTemp("", "xmod-oracle-*.zip")
		if err != nil {
			panic(err)
		}
		defer os.Remove(f.Name())
		if _, err := f.Write(a.bytes(0)); err != nil {
			panic(err)
		}
		f.Close()
		return result(hashAndCheck(f.Name(), a.str(1), a.str(2)), nil)
	// The same for a zip file on disk (one too large to send as JSON).
	case "zip.HashAndCheckFile":
		return result(hashAndCheck(a.str(0), a.str(1), a.str(2)), nil)

	// golang.org/x/mod/zip (unexported strToFold, via the generated shim)
	case "zip.StrToFold":
		return result(enc(zip.OracleStrToFold(a.str(0))), nil)

	// strings and unicode/utf8, to check lib/gomod's helpers
	case "strings.EqualFold":
		return result(strings.EqualFold(a.str(0), a.str(1)), nil)
	case "strings.Fields":
		return result(strings.Fields(a.str(0)), nil)
	case "utf8.Decode":
		// What a range loop sees: each invalid byte becomes U+FFFD.
		return result(string([]rune(a.str(0))), nil)

	// encoding/json into a copy of cmd/go/internal/modfetch.RevInfo: a proxy's .info as the go command reads it
	case "modfetch.RevInfo":
		info := new(revInfo)
		if err := json.Unmarshal([]byte(a.str(0)), info); err != nil {
			return result(nil, err)
		}
		out := map[string]any{"Version": enc(info.Version), "UnixMilli": info.Time.UnixMilli(), "Time": nil, "Origin": nil}
		if text, err := info.Time.MarshalJSON(); err == nil {
			var s string
			json.Unmarshal(text, &s)
			out["Time"] = s
		}
		if info.Origin != nil {
			out["Origin"] = info.Origin
		}
		return result(out, nil)

	// strconv, to check lib/gomod's copy of Go's %q quoting
	case "strconv.Quote":
		return result(strconv.Quote(a.str(0)), nil)
	case "strconv.QuoteRune":
		return result(strconv.QuoteRune(rune(a.int(0))), nil)

	// unicode: per-code-point facts for [lo, hi).
	case "unicode.scan":
		return result(scan(rune(a.int(0)), rune(a.int(1))), nil)
	case "unicode.tables":
		return result(tables(), nil)
	}
	panic("unknown op " + strconv.Quote(op))
}

// scan reports, for every code point in [lo, hi), a flag word
// (1 IsLetter, 2 IsPrint, 4 IsSpace), SimpleFold's answer and the single
// rune that zip's strToFold turns the one-rune string into, the last two as
// offsets from the code point (mostly zero, which keeps the JSON small).
func scan(lo, hi rune) map[string]any {
	n := int(hi - lo)
	flags := make([]int, n)
	fold := make([]int, n)
	toFold := make([]int, n)
	for r := lo; r < hi; r++ {
		f := 0
		if unicode.IsLetter(r) {
			f |= 1
		}
		if unicode.IsPrint(r) {
			f |= 2
		}
		if unicode.IsSpace(r) {
			f |= 4
		}
		flags[r-lo] = f
		fold[r-lo] = int(unicode.SimpleFold(r) - r)
		folded := []rune(zip.OracleStrToFold(string(r)))
		if len(folded) != 1 {
			panic(fmt.Sprintf("strToFold(%U) is %d runes", r, len(folded)))
		}
		toFold[r-lo] = int(folded[0] - r)
	}
	return map[string]any{"flags": flags, "simpleFold": fold, "strToFold": toFold}
}

// tables renders unicode.IsLetter, unicode.IsPrint and the unicode.SimpleFold
// orbits in the compact text form that lib/gomod/fold.ts embeds, so the test
// can confirm that the committed tables are exactly what this Go produces.
func tables() map[string]any {
	return map[string]any{
		"version": unicode.Version,
		"letter":  rangeTable(unicode.IsLetter),
		"print":   rangeTable(unicode.IsPrint),
		"fold":    foldTable(),
	}
}

func b36(x rune) string { return strconv.FormatInt(int64(x), 36) }

// rangeTable lists the maximal runs of code points where f holds, as
// base-36 pairs "gap,length-1" (the gap counted from the end of the
// previous run), all joined by commas.
func rangeTable(f func(rune) bool) string {
	var out []string
	prevEnd := rune(-1)
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !f(r) {
			continue
		}
		start := r
		for r+1 <= unicode.MaxRune && f(r+1) {
			r++
		}
		out = append(out, b36(start-prevEnd-1), b36(r-start))
		prevEnd = r
	}
	return strings.Join(out, ",")
}

// foldTable describes every SimpleFold orbit of more than one code point.
// Orbits are grouped into runs "first.count.stride.d1[.d2...]": count
// orbits whose smallest members are first, first+stride, ..., each orbit
// being {m, m+d1, m+d2, ...}. Everything is base 36.
func foldTable() string {
	type orbit struct {
		min rune
		sig string
	}
	var orbits []orbit
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.SimpleFold(r) == r {
			continue
		}
		members := []rune{r}
		isMin := true
		for x := unicode.SimpleFold(r); x != r; x = unicode.SimpleFold(x) {
			if x < r {
				isMin = false
			}
			members = append(members, x)
		}
		if !isMin {
			continue
		}
		sort.Slice(members, func(i, j int) bool { return members[i] < members[j] })
		var d []string
		for _, m := range members[1:] {
			d = append(d, b36(m-r))
		}
		orbits = append(orbits, orbit{r, strings.Join(d, ".")})
	}
	var runs []string
	for i := 0; i < len(orbits); {
		j := i + 1
		stride := rune(0)
		if j < len(orbits) && orbits[j].sig == orbits[i].sig {
			stride = orbits[j].min - orbits[i].min
			j++
			for j < len(orbits) && orbits[j].sig == orbits[i].sig && orbits[j].min-orbits[j-1].min == stride {
				j++
			}
		}
		runs = append(runs, b36(orbits[i].min)+"."+b36(rune(j-i))+"."+b36(stride)+"."+orbits[i].sig)
		i = j
	}
	return strings.Join(runs, ",")
}

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	out := bufio.NewWriterSize(os.Stdout, 1<<20)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var req request
			var resp map[string]any
			if jerr := json.Unmarshal(line, &req); jerr != nil {
				resp = map[string]any{"panic": "bad request: " + jerr.Error()}
			} else {
				resp = handle(req.Op, args(req.Args))
			}
			if eerr := enc.Encode(resp); eerr != nil {
				fmt.Fprintln(os.Stderr, "encode:", eerr)
				os.Exit(1)
			}
		}
		// Flush once the requests already sent have all been answered, so a
		// client that pipelines thousands of requests gets big writes.
		if err != nil || in.Buffered() == 0 {
			if ferr := out.Flush(); ferr != nil {
				os.Exit(1)
			}
		}
		if err != nil {
			if err != io.EOF {
				fmt.Fprintln(os.Stderr, "read:", err)
				os.Exit(1)
			}
			return
		}
	}
}

// revInfo and revOrigin copy the go command's modfetch.RevInfo and codehost.Origin field for field.
type revInfo struct {
	Version string
	Time    time.Time
	Name    string     `json:"-"`
	Short   string     `json:"-"`
	Origin  *revOrigin `json:",omitempty"`
}

type revOrigin struct {
	VCS       string `json:",omitempty"`
	URL       string `json:",omitempty"`
	Subdir    string `json:",omitempty"`
	Hash      string `json:",omitempty"`
	TagPrefix string `json:",omitempty"`
	TagSum    string `json:",omitempty"`
	Ref       string `json:",omitempty"`
	RepoSum   string `json:",omitempty"`
}

// hashAndCheck is what the go command computes of a downloaded zip: its h1
// (dirhash.HashZip) and zip.CheckZip's verdict.
func hashAndCheck(file, path, version string) map[string]any {
	out := map[string]any{}
	if h, err := dirhash.HashZip(file, dirhash.Hash1); err != nil {
		out["hashErr"] = enc(err.Error())
	} else {
		out["h1"] = enc(h)
	}
	if _, err := zip.CheckZip(module.Version{Path: path, Version: version}, file); err != nil {
		out["checkErr"] = enc(err.Error())
	}
	return out
}
