// SPDX-License-Identifier: MPL-2.0

// Command terraform-provider-atlas serves the atlas Terraform provider.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/atlas-community/terraform-provider-atlas/internal/provider"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers such as delve")
	flag.Parse()
	provider.SilenceLogsUnlessAsked()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/atlas-community/atlas",
		Debug:   debug,
	})
	provider.AtExit()
	if err != nil {
		log.Fatal(err.Error())
	}
}
