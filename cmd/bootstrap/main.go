// Command bootstrap creates and tears down the SOVD web app's AWS environment.
package main

import (
	"os"

	"github.com/sovd/bootstrap/internal/app"
)

func main() { os.Exit(app.Main()) }
