// Answers, with kube-apiserver's own validation code (k8s.io/apimachinery),
// whether each input passes a rule, so that test/k8s-validation.proc.test.ts
// can compare lib/rules/k8s-names.ts with it. Reads a JSON array of
// {"rule": ..., "value": ...} on stdin and writes a JSON array of booleans.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

type query struct {
	Rule        string            `json:"rule"`
	Value       string            `json:"value"`
	Annotations map[string]string `json:"annotations"`
}

func main() {
	var queries []query
	if err := json.NewDecoder(os.Stdin).Decode(&queries); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := make([]bool, len(queries))
	for i, q := range queries {
		switch q.Rule {
		case "qualifiedName":
			out[i] = len(validation.IsQualifiedName(q.Value)) == 0
		case "labelValue":
			out[i] = len(validation.IsValidLabelValue(q.Value)) == 0
		case "dnsLabel":
			out[i] = len(validation.IsDNS1123Label(q.Value)) == 0
		case "dns1035Label":
			out[i] = len(validation.IsDNS1035Label(q.Value)) == 0
		case "dnsSubdomain":
			out[i] = len(validation.IsDNS1123Subdomain(q.Value)) == 0
		case "dataKey":
			out[i] = len(validation.IsConfigMapKey(q.Value)) == 0
		case "annotations":
			out[i] = len(apivalidation.ValidateAnnotations(q.Annotations, field.NewPath("metadata", "annotations"))) == 0
		case "annotationKey":
			out[i] = len(validation.IsQualifiedName(strings.ToLower(q.Value))) == 0
		default:
			fmt.Fprintln(os.Stderr, "unknown rule", q.Rule)
			os.Exit(2)
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		os.Exit(2)
	}
}
