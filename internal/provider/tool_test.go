// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// The acceptance tests run under Terraform (make test) and under OpenTofu
// (make testacc-tofu, make test-matrix). Both report a version the same
// way, but one number means different features in each: OpenTofu 1.10 has
// no ephemeral resources, Terraform 1.10 has. So a gate on a feature looks
// at the tool as well as the version.

// cliIsOpenTofu reports whether the CLI under test is OpenTofu, whose
// `version` output has a line "OpenTofu vX.Y.Z" (after any warnings about
// the CLI configuration, which 1.12 prints on stdout). If the binary cannot
// be run here, TF_ACC_PROVIDER_HOST decides: OpenTofu runs must set it to
// registry.opentofu.org.
var cliIsOpenTofu = sync.OnceValue(func() bool {
	bin := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if bin == "" {
		bin = "terraform"
	}
	cmd := exec.Command(bin, "version")
	cmd.Env = append(os.Environ(), "CHECKPOINT_DISABLE=1")
	if out, err := cmd.Output(); err == nil {
		return strings.HasPrefix(string(out), "OpenTofu v") || strings.Contains(string(out), "\nOpenTofu v")
	}
	return os.Getenv("TF_ACC_PROVIDER_HOST") == "registry.opentofu.org"
})

// ephemeralResourcesTestable skips a test that uses ephemeral resources
// below Terraform 1.10 and below OpenTofu 1.12. OpenTofu has them from
// 1.11, but 1.11 lists each ephemeral resource in the plan with an "open"
// action, which the framework's empty-plan check after every step takes
// for a change (opentofu/opentofu#3781; 1.12.0 no longer does).
func ephemeralResourcesTestable() tfversion.TerraformVersionCheck {
	return ephemeralResourcesCheck{}
}

type ephemeralResourcesCheck struct{}

func (ephemeralResourcesCheck) CheckTerraformVersion(_ context.Context, req tfversion.CheckTerraformVersionRequest, resp *tfversion.CheckTerraformVersionResponse) {
	tool, minimum := "Terraform", tfversion.Version1_10_0
	if cliIsOpenTofu() {
		tool, minimum = "OpenTofu", tfversion.Version1_12_0
	}
	if req.TerraformVersion.Core().LessThan(minimum) {
		resp.Skip = fmt.Sprintf("ephemeral resources are tested from %s %s on; this is %s %s",
			tool, minimum, tool, req.TerraformVersion)
	}
}
