// Package layout holds the test of the import picture docs/layout.md draws
// ("Imports"): which of bootstrap's packages may import which. It has no
// code of its own.
package layout
