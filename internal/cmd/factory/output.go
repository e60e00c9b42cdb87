package factory

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Output is the --output flag: text for people, json for programs.
type Output string

// AddOutputFlag adds --output/-o to a command whose result is data.
func AddOutputFlag(cmd *cobra.Command, o *Output) {
	*o = "text"
	cmd.Flags().StringVarP((*string)(o), "output", "o", "text", "output format: text or json")
}

// Check validates the flag's value.
func (o Output) Check() error {
	if o != "text" && o != "json" {
		return &FlagError{Err: fmt.Errorf("--output must be text or json, not %q", string(o))}
	}
	return nil
}

// JSON reports whether json was asked for.
func (o Output) JSON() bool { return o == "json" }

// WriteJSON writes v indented, with a final newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
