package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	yaml "go.yaml.in/yaml/v3"
)

// maxValues bounds how many YAML values a file may expand to (aliases
// included), so that a small file of nested aliases cannot exhaust memory.
const maxValues = 100_000

// readYAML turns a bootstrap.yaml into the generic values the schema check
// walks (map[string]any, []any, string, json.Number, bool, nil), reading the
// file as written: a key given twice at any depth, a second document, and a
// number that is not finite are problems with their path and line, where a
// plain YAML-to-JSON conversion would keep the last key, drop the second
// document, or fail without a path. lines maps each path to its line, for
// the problems found later.
func readYAML(data []byte) (raw any, lines map[string]int, probs Problems) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, nil
		}
		return nil, nil, Problems{syntaxProblem(err)}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		probs = append(probs, Problem{Message: fmt.Sprintf("holds a second YAML document (from line %d)", max(next.Line, 1)),
			Hint: "bootstrap reads one document: put every environment under the first one's environments and remove the '---' line"})
	case !errors.Is(err, io.EOF):
		probs = append(probs, Problem{Message: "holds a second YAML document, and it is not valid YAML: " + err.Error(),
			Hint: "bootstrap reads one document: remove the '---' line and what follows"})
	}
	c := &yamlReader{lines: map[string]int{}}
	if len(doc.Content) > 0 {
		raw = c.value("", doc.Content[0])
	}
	return raw, c.lines, append(probs, c.probs...)
}

func syntaxProblem(err error) Problem {
	return Problem{Message: "is not valid YAML: " + err.Error(), Hint: "check the indentation and quoting at that line"}
}

type yamlReader struct {
	lines  map[string]int
	probs  Problems
	values int
	full   bool
}

func (c *yamlReader) add(path string, line int, msg, hint string) {
	c.probs = append(c.probs, Problem{Path: path, Message: msg, Hint: hint, Line: line})
}

func (c *yamlReader) value(path string, n *yaml.Node) any {
	c.values++
	if c.values > maxValues {
		if !c.full {
			c.full = true
			c.add(path, n.Line, fmt.Sprintf("the file expands to more than %d values", maxValues), "a bootstrap.yaml has a few hundred; look for YAML aliases (*name) that repeat large blocks")
		}
		return nil
	}
	if _, seen := c.lines[path]; !seen {
		c.lines[path] = n.Line
	}
	switch n.Kind {
	case yaml.AliasNode:
		return c.value(path, n.Alias)
	case yaml.MappingNode:
		return c.mapping(path, n)
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, e := range n.Content {
			l[i] = c.value(fmt.Sprintf("%s[%d]", path, i), e)
		}
		return l
	case yaml.ScalarNode:
		return c.scalar(path, n)
	}
	return nil
}

// mapping reads a mapping's keys in order, refusing a key given twice. Keys
// merged in with YAML's "<<" come after the mapping's own, which win, as the
// merge key's specification says.
func (c *yamlReader) mapping(path string, n *yaml.Node) map[string]any {
	m := map[string]any{}
	seen := map[string]int{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			c.add(path, k.Line, "has a key that is not a plain name", "keys are names such as region or cluster")
			continue
		}
		key := k.Value
		if first, dup := seen[key]; dup {
			c.add(join(path, key), k.Line, fmt.Sprintf("is set twice, at lines %d and %d", first, k.Line),
				"keep one: YAML does not merge repeated keys, and the second would silently replace the first")
			continue
		}
		seen[key] = k.Line
		m[key] = c.value(join(path, key), v)
	}
	for _, src := range merges {
		for _, mm := range mergeSources(src) {
			merged, ok := c.value(path, mm).(map[string]any)
			if !ok {
				continue
			}
			for k, v := range merged {
				if _, own := m[k]; !own {
					m[k] = v
				}
			}
		}
	}
	return m
}

func mergeSources(n *yaml.Node) []*yaml.Node {
	if n.Kind == yaml.SequenceNode {
		return n.Content
	}
	return []*yaml.Node{n}
}

// scalar resolves a scalar by its YAML tag; numbers become json.Number so the
// schema check can tell whole numbers from others.
func (c *yamlReader) scalar(path string, n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err == nil {
			return b
		}
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			c.add(path, n.Line, fmt.Sprintf("%s is too large a number", truncate(n.Value)), "")
			c.probs[len(c.probs)-1].replaced = true
			return nil
		}
		return json.Number(strconv.FormatInt(i, 10))
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return n.Value
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			c.add(path, n.Line, fmt.Sprintf("%s is not a finite number", truncate(n.Value)),
				"YAML reads .nan and .inf as not-a-number and infinity; write a number such as 100, or quote the value if it is text")
			c.probs[len(c.probs)-1].replaced = true
			return nil
		}
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
	}
	return n.Value
}
