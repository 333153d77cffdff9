// Command crdcheck validates custom resources the way kube-apiserver does for a
// CRD: the CRD's OpenAPI v3 schema as a structural schema, pruning of unknown
// fields, and the schema validator of k8s.io/apiextensions-apiserver (the code
// kube-apiserver runs). It stands in for a real control plane in the gitops
// tests (docs/gitops.md), which have none.
//
//	crdcheck -crd bitnami.com_sealedsecrets.yaml < object.json
//
// Exit 0: valid, nothing pruned. Exit 1: the errors (or pruned fields) on stderr.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"sigs.k8s.io/yaml"
)

func main() {
	crdFile := flag.String("crd", "", "the CustomResourceDefinition (YAML)")
	flag.Parse()
	raw, err := os.ReadFile(*crdFile)
	must(err)
	var crd apiextensionsv1.CustomResourceDefinition
	must(yaml.Unmarshal(raw, &crd))
	input, err := io.ReadAll(os.Stdin)
	must(err)
	var obj map[string]interface{}
	must(json.Unmarshal(input, &obj))
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	if kind != crd.Spec.Names.Kind {
		fail("kind %q is not the CRD's %q", kind, crd.Spec.Names.Kind)
	}
	for _, v := range crd.Spec.Versions {
		if crd.Spec.Group+"/"+v.Name != apiVersion {
			continue
		}
		if !v.Served {
			fail("version %s is not served", v.Name)
		}
		internal := &apiextensions.JSONSchemaProps{}
		must(apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, internal, nil))
		structural, err := structuralschema.NewStructural(internal)
		must(err)
		validator, _, err := apiservervalidation.NewSchemaValidator(internal)
		must(err)
		pruned := pruning.PruneWithOptions(obj, structural, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})
		errs := apiservervalidation.ValidateCustomResource(nil, obj, validator)
		if len(errs) > 0 || len(pruned) > 0 {
			fail("invalid: %v; pruned (unknown fields): %v", errs.ToAggregate(), pruned)
		}
		fmt.Println("valid")
		return
	}
	fail("apiVersion %q is not a version of the CRD", apiVersion)
}

func must(err error) {
	if err != nil {
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
