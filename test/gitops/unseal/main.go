// Command unseal opens a SealedSecret with the sealed-secrets controller's own
// code (v1alpha1.SealedSecret.Unseal, which checks the scope through the
// RSA-OAEP label), as the controller does in the cluster.
//
//	unseal -key controller.key [-namespace NS] [-name NAME] < sealed.yaml
//
// -namespace/-name move the SealedSecret (as a user applying it elsewhere
// would); a strict-scoped one must then fail to open. Prints the Secret's
// data as JSON ({"key": "<base64>"}) or exits 1 with the controller's error.
package main

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"os"

	ssv1alpha1 "github.com/bitnami-labs/sealed-secrets/pkg/apis/sealedsecrets/v1alpha1"
	"github.com/bitnami-labs/sealed-secrets/pkg/crypto"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/yaml"
)

func main() {
	keyFile := flag.String("key", "", "the controller's private key (PEM)")
	namespace := flag.String("namespace", "", "move the SealedSecret to this namespace")
	name := flag.String("name", "", "rename the SealedSecret")
	flag.Parse()
	keyPem, err := os.ReadFile(*keyFile)
	must(err)
	block, _ := pem.Decode(keyPem)
	if block == nil {
		fail("no PEM in %s", *keyFile)
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		key = k
	} else {
		k8, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		must(err)
		key = k8.(*rsa.PrivateKey)
	}
	input, err := io.ReadAll(os.Stdin)
	must(err)
	var ss ssv1alpha1.SealedSecret
	must(yaml.UnmarshalStrict(input, &ss))
	if ss.APIVersion != "bitnami.com/v1alpha1" || ss.Kind != "SealedSecret" {
		fail("not a bitnami.com/v1alpha1 SealedSecret: %s %s", ss.APIVersion, ss.Kind)
	}
	if *namespace != "" {
		ss.Namespace = *namespace
	}
	if *name != "" {
		ss.Name = *name
	}
	fp, err := crypto.PublicKeyFingerprint(&key.PublicKey)
	must(err)
	codecs := serializer.NewCodecFactory(runtime.NewScheme())
	secret, err := ss.Unseal(codecs, map[string]*rsa.PrivateKey{fp: key})
	if err != nil {
		fail("unseal: %v", err)
	}
	out := map[string]any{"namespace": secret.Namespace, "name": secret.Name, "type": string(secret.Type), "data": secret.Data, "labels": secret.Labels, "annotations": secret.Annotations}
	must(json.NewEncoder(os.Stdout).Encode(out))
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
