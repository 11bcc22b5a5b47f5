// SPDX-License-Identifier: MPL-2.0

// Package examplestest checks the Terraform configurations under examples/:
// each is initialized against a freshly built provider, served from a
// filesystem mirror, and validated. It has no code of its own; the check is
// in examples_test.go and needs a terraform (or tofu) binary.
package examplestest
