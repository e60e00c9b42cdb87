package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// DefaultPath is where bootstrap looks for its file when --config is not given.
const DefaultPath = "bootstrap.yaml"

// MaxFileSize is the largest configuration file read. A bootstrap.yaml is a
// few KiB; the limit keeps a wrong path (a device, a log) from filling memory.
const MaxFileSize = 1 << 20

// Load reads a configuration. An empty path means DefaultPath if it exists,
// else the built-in profiles. The result is defaulted but not validated: call
// Validate (or use Resolve, which does both for one environment). Problems in
// the file come back wrapped with its name.
func Load(path string) (*File, error) {
	explicit := path != ""
	if !explicit {
		path = DefaultPath
	}
	data, err := readLimited(path)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return BuiltinFile(), nil
		}
		return nil, err
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.path = path
	return f, nil
}

// readLimited reads at most MaxFileSize bytes of a file, and refuses a
// larger one rather than reading on.
func readLimited(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading configuration %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s: %w", path, Problems{{Message: fmt.Sprintf("is larger than %d KiB", MaxFileSize>>10),
			Hint: "a bootstrap.yaml is a few KiB: check that --config names the right file"}})
	}
	return data, nil
}

// Parse decodes a bootstrap.yaml strictly: apiVersion and kind first, then
// every key checked against the schema, every problem reported at once with
// its path. Environments the file names are laid over FileBase: the built-in
// profile of that name, protected whatever the name.
func Parse(data []byte) (*File, error) {
	rawAny, lines, probs := readYAML(data)
	raw, ok := rawAny.(map[string]any)
	if !ok && len(probs) == 0 {
		return nil, Problems{{Message: "the file is empty or not a mapping", Hint: "start from `bootstrap init`"}}
	}
	if raw == nil {
		return nil, probs
	}

	apiVersion, _ := raw["apiVersion"].(string)
	kind, _ := raw["kind"].(string)
	var head Problems
	if apiVersion != APIVersion {
		head = append(head, Problem{Path: "apiVersion", Message: "is " + quote(apiVersion), Hint: "set apiVersion: " + APIVersion})
	}
	if kind != Kind {
		head = append(head, Problem{Path: "kind", Message: "is " + quote(kind), Hint: "set kind: " + Kind})
	}
	if len(head) > 0 {
		// Without the right apiVersion the rest cannot be read reliably.
		return nil, withLines(append(probs, head...), lines)
	}

	// Keys with problems are dropped from raw as they are found, so the rest
	// still decodes and Validate can report its own problems in the same run.
	shape, _ := checkShape("", raw, reflect.TypeOf(File{}))
	probs = append(probs, markReplaced(shape)...)
	envs, _ := raw["environments"].(map[string]any)
	if len(envs) == 0 && !reported(probs, "environments") {
		probs = append(probs, Problem{Path: "environments", Message: "names no environment", Hint: "add at least one, e.g. environments.production: {}"})
	}

	f := &File{APIVersion: apiVersion, Kind: kind, Environments: map[string]*Profile{}, lines: lines}
	for name, body := range envs {
		p := FileBase(name)
		if body != nil {
			b, err := json.Marshal(body)
			if err == nil {
				err = json.Unmarshal(b, p)
			}
			if err != nil {
				// checkShape has matched every kind, so this would be a
				// schema the check does not know: report it, never panic.
				probs = append(probs, Problem{Path: "environments." + name, Message: "cannot be read: " + err.Error(), Hint: "compare it with what `bootstrap init` writes"})
				p = FileBase(name)
			}
		}
		p.Name = name
		f.Environments[name] = p
	}
	f.decodeProblems = withLines(probs, lines)
	return f, nil
}

// reported says whether a problem was already reported at path or inside it,
// so one mistake is one problem.
func reported(probs Problems, path string) bool {
	for _, p := range probs {
		if within(p.Path, path) {
			return true
		}
	}
	return false
}

// replaced says whether path is at or below a value the file gave in a form
// that was dropped for its default: the default's checks would only repeat
// the one mistake.
func replaced(probs Problems, path string) bool {
	for _, p := range probs {
		if p.replaced && within(path, p.Path) {
			return true
		}
	}
	return false
}

func markReplaced(probs Problems) Problems {
	for i := range probs {
		probs[i].replaced = true
	}
	return probs
}

// within reports whether path is p or lies inside it.
func within(path, p string) bool {
	if !strings.HasPrefix(path, p) {
		return false
	}
	rest := path[len(p):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

// withLines sets the line of each problem whose path the file has.
func withLines(probs Problems, lines map[string]int) Problems {
	for i := range probs {
		if probs[i].Line == 0 && probs[i].Path != "" {
			probs[i].Line = lines[probs[i].Path]
		}
	}
	return probs
}

// checkShape walks decoded YAML against the Go type it must fit, reporting
// unknown keys and values of the wrong kind with their paths and the kind
// expected. Doing this ourselves, rather than relying on a strict decoder that
// stops at the first problem, lets one run report every problem. wrong says
// that v itself is of the wrong kind: the caller drops it, keeping the
// default, so the rest still decodes.
func checkShape(path string, v any, t reflect.Type) (probs Problems, wrong bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return nil, false // null: keep the default
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return Problems{{Path: path, Message: "must be a mapping (key: value lines), got " + describe(v), Hint: "write the fields of " + lastName(path) + " one per line below it, e.g. " + exampleField(t)}}, true
		}
		return checkFields(path, m, t), false
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return Problems{{Path: path, Message: "must be a mapping (key: value lines), got " + describe(v), Hint: "write name: value lines below " + lastName(path)}}, true
		}
		for _, k := range sortedKeys(m) {
			p, bad := checkShape(join(path, k), m[k], t.Elem())
			probs = append(probs, p...)
			if bad {
				m[k] = nil // the default: a built-in profile, an empty tag value
			}
		}
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return Problems{{Path: path, Message: "must be a list, got " + describe(v), Hint: "write one \"- item\" line per entry, or [a, b, c]"}}, true
		}
		for i, e := range l {
			p, bad := checkShape(fmt.Sprintf("%s[%d]", path, i), e, t.Elem())
			probs = append(probs, p...)
			if bad {
				l[i] = nil
			}
		}
	default:
		return checkScalar(path, v, t.Kind())
	}
	return probs, false
}

// movedFields are fields that moved to another section, by type and key.
var movedFields = map[string]string{
	"Database.deletionProtection": "protection.deletionProtection",
}

// checkFields checks a mapping against a struct's fields.
func checkFields(path string, m map[string]any, t reflect.Type) Problems {
	var probs Problems
	fields := map[string]reflect.Type{}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("json"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		fields[tag] = f.Type
		names = append(names, tag)
	}
	for _, k := range sortedKeys(m) {
		ft, ok := fields[k]
		if !ok {
			hint := suggest(k, names)
			if to, ok := movedFields[t.Name()+"."+k]; ok {
				hint = "moved: set " + to + " instead"
			}
			probs = append(probs, Problem{Path: join(path, truncate(k)), Message: "unknown field", Hint: hint})
			delete(m, k)
			continue
		}
		p, bad := checkShape(join(path, k), m[k], ft)
		probs = append(probs, p...)
		if bad {
			delete(m, k) // keep the default for a value of the wrong kind
		}
	}
	return probs
}

func checkScalar(path string, v any, k reflect.Kind) (Problems, bool) {
	switch k {
	case reflect.String:
		if _, ok := v.(string); !ok {
			return Problems{{Path: path, Message: "must be a string, got " + describe(v), Hint: "quote the value"}}, true
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return Problems{{Path: path, Message: "must be true or false, got " + describe(v), Hint: ""}}, true
		}
	case reflect.Int:
		n, ok := v.(json.Number)
		if _, err := n.Int64(); !ok || err != nil {
			return Problems{{Path: path, Message: "must be a whole number, got " + describe(v), Hint: ""}}, true
		}
	case reflect.Float64:
		n, ok := v.(json.Number)
		if _, err := n.Float64(); !ok || err != nil {
			return Problems{{Path: path, Message: "must be a number, got " + describe(v), Hint: ""}}, true
		}
	}
	return nil, false
}

// lastName is the last key of a path, for hints.
func lastName(path string) string {
	if i := strings.LastIndexAny(path, "."); i >= 0 {
		return path[i+1:]
	}
	return path
}

// exampleField names a struct's first field, for hints.
func exampleField(t reflect.Type) string {
	for i := 0; i < t.NumField(); i++ {
		if tag := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]; tag != "" && tag != "-" {
			return tag + ": ..."
		}
	}
	return "name: value"
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return "the string " + quote(x)
	case json.Number:
		return "the number " + x.String()
	case bool:
		return fmt.Sprintf("%t", x)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%v", v)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// suggest names the closest known field, for typos such as "instanceclass".
func suggest(k string, known []string) string {
	best, bestD := "", 1<<30
	for _, n := range known {
		if d := distance(strings.ToLower(k), strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	if best != "" && bestD <= 3 {
		return fmt.Sprintf("did you mean %q?", best)
	}
	sort.Strings(known)
	return "known fields: " + strings.Join(known, ", ")
}

// distance is the Levenshtein edit distance.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// Marshal renders a configuration as YAML, for `bootstrap init`.
func Marshal(f *File) ([]byte, error) {
	return yaml.Marshal(f)
}
