package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"sort"
	"strings"

	"sigs.k8s.io/yaml"
)

// DefaultPath is where bootstrap looks for its file when --config is not given.
const DefaultPath = "bootstrap.yaml"

// Load reads a configuration. An empty path means DefaultPath if it exists,
// else the built-in profiles. The result is defaulted but not validated: call
// Validate (or use Resolve, which does both for one environment).
func Load(path string) (*File, error) {
	explicit := path != ""
	if !explicit {
		path = DefaultPath
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return BuiltinFile(), nil
		}
		return nil, fmt.Errorf("reading configuration: %w", err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse decodes a bootstrap.yaml strictly: apiVersion and kind first, then
// every key checked against the schema, every problem reported at once with
// its path. Environments the file names are laid over their built-in profile.
func Parse(data []byte) (*File, error) {
	jsonData, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	var raw map[string]any
	dec := json.NewDecoder(bytes.NewReader(jsonData))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, Problems{{Path: "", Message: "the file is empty or not a mapping", Hint: "start from `bootstrap init`"}}
	}

	var probs Problems
	apiVersion, _ := raw["apiVersion"].(string)
	kind, _ := raw["kind"].(string)
	if apiVersion != APIVersion {
		probs = append(probs, Problem{"apiVersion", fmt.Sprintf("is %q", apiVersion), "set apiVersion: " + APIVersion})
	}
	if kind != Kind {
		probs = append(probs, Problem{"kind", fmt.Sprintf("is %q", kind), "set kind: " + Kind})
	}
	if len(probs) > 0 {
		// Without the right apiVersion the rest cannot be read reliably.
		return nil, probs
	}

	// Keys with problems are dropped from raw as they are found, so the rest
	// still decodes and Validate can report its own problems in the same run.
	probs = append(probs, checkShape("", raw, reflect.TypeOf(File{}))...)
	envs, _ := raw["environments"].(map[string]any)
	if len(envs) == 0 {
		probs = append(probs, Problem{"environments", "names no environment", "add at least one, e.g. environments.production: {}"})
	}

	f := &File{APIVersion: apiVersion, Kind: kind, Environments: map[string]*Profile{}, decodeProblems: probs}
	for name, body := range envs {
		p := Builtin(name)
		if body != nil {
			b, err := json.Marshal(body)
			if err == nil {
				err = json.Unmarshal(b, p)
			}
			if err != nil {
				// checkShape has already matched kinds, so this is unexpected.
				return nil, fmt.Errorf("environments.%s: %w", name, err)
			}
		}
		p.Name = name
		f.Environments[name] = p
	}
	return f, nil
}

// checkShape walks decoded YAML against the Go type it must fit, reporting
// unknown keys and values of the wrong kind with their paths. Doing this
// ourselves, rather than relying on a strict decoder that stops at the first
// problem, lets one run report every problem.
func checkShape(path string, v any, t reflect.Type) Problems {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if v == nil {
		return nil // null: keep the default
	}
	var probs Problems
	switch t.Kind() {
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return Problems{{path, "must be a mapping, got " + describe(v), ""}}
		}
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
				probs = append(probs, Problem{join(path, k), "unknown field", suggest(k, names)})
				delete(m, k)
				continue
			}
			if p := checkShape(join(path, k), m[k], ft); len(p) > 0 {
				probs = append(probs, p...)
				if !isContainer(m[k]) {
					delete(m, k) // keep the default for a value of the wrong kind
				}
			}
		}
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return Problems{{path, "must be a mapping, got " + describe(v), ""}}
		}
		for _, k := range sortedKeys(m) {
			if p := checkShape(join(path, k), m[k], t.Elem()); len(p) > 0 {
				probs = append(probs, p...)
				if !isContainer(m[k]) {
					delete(m, k)
				}
			}
		}
	case reflect.Slice:
		l, ok := v.([]any)
		if !ok {
			return Problems{{path, "must be a list, got " + describe(v), ""}}
		}
		for i, e := range l {
			if p := checkShape(fmt.Sprintf("%s[%d]", path, i), e, t.Elem()); len(p) > 0 {
				probs = append(probs, p...)
				if !isContainer(e) {
					l[i] = nil
				}
			}
		}
	case reflect.String:
		if _, ok := v.(string); !ok {
			return Problems{{path, "must be a string, got " + describe(v), "quote the value"}}
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return Problems{{path, "must be true or false, got " + describe(v), ""}}
		}
	case reflect.Int:
		n, ok := v.(json.Number)
		if _, err := n.Int64(); !ok || err != nil {
			return Problems{{path, "must be a whole number, got " + describe(v), ""}}
		}
	case reflect.Float64:
		n, ok := v.(json.Number)
		if _, err := n.Float64(); !ok || err != nil {
			return Problems{{path, "must be a number, got " + describe(v), ""}}
		}
	}
	return probs
}

// isContainer reports whether a decoded value is a mapping or a list, whose
// problems were already removed inside it.
func isContainer(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return true
	}
	return false
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", x)
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
