// kubectl built from its own Go module (k8s.io/kubectl, the code of the
// released binary's commands), for the doctor test "kubectl 1.32 against the
// simulated server" where no kubectl is installed: `.ci/run` builds it with
// `go build` from the Go module proxy. Debian's kubernetes-client is 1.20.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubectl/pkg/cmd"
)

func main() {
	os.Exit(cli.Run(cmd.NewDefaultKubectlCommand()))
}
