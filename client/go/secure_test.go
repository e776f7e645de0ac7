package gateway_test

// Against a live gateway in TLS mode (tests/client/with_live_gateway.sh
// --secure, or --mtls for client certificates) that lets only caller
// "example-app", known by its bearer secret or its certificate, spend the
// gateway's token; tests/client/go/run_client_test.sh runs these in both
// modes. The client's defaults come from the environment the script sets.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	gateway "gitlab-gateway/client/go"
	"gitlab-gateway/client/go/gatewayv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
)

const wrongToken = "wrong-SECRET-5ca1ab1e"

var gatewayEnv = []string{"GITLAB_GATEWAY_CA_FILE", "GITLAB_GATEWAY_CERT_FILE",
	"GITLAB_GATEWAY_KEY_FILE", "GITLAB_GATEWAY_CALLER_TOKEN"}

// needMode skips the test unless the gateway runs in mode (tls or mtls).
func needMode(t *testing.T, mode string) {
	t.Helper()
	if got := os.Getenv("GG_TEST_GATEWAY_MODE"); got != mode {
		t.Skipf("needs a %s gateway (with_live_gateway.sh --secure/--mtls), have %q", mode, got)
	}
}

// callerToken is the bearer secret the gateway knows.
func callerToken(t *testing.T) string {
	b, err := os.ReadFile(os.Getenv("GG_TEST_CALLER_TOKEN_FILE"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// withoutGatewayEnv unsets the client's variables until the test ends.
func withoutGatewayEnv(t *testing.T) {
	for _, name := range gatewayEnv {
		name := name
		if v, ok := os.LookupEnv(name); ok {
			os.Unsetenv(name)
			t.Cleanup(func() { os.Setenv(name, v) })
		}
	}
}

// refused is the error of one Execute of /projects/42.
func refused(t *testing.T, opts ...gateway.Option) *gateway.Error {
	t.Helper()
	_, err := dial(t, opts...).Do(ctx(t), "GET", "/projects/42")
	if err == nil {
		t.Fatal("the call succeeded")
	}
	return asError(t, err)
}

func TestSecureEnvironmentAloneCallsOverTLSWithTheBearer(t *testing.T) {
	needMode(t, "tls")
	var echo map[string]interface{}
	if err := dial(t).GetJSON(ctx(t), "/echo", &echo); err != nil {
		t.Fatal(err)
	}
	// The gateway spent its own token for the known caller; the caller's
	// secret never goes to GitLab.
	b, _ := json.Marshal(echo)
	if echo["private_token"] != "live-gateway-token" || strings.Contains(string(b), callerToken(t)) {
		t.Errorf("echo = %s", b)
	}
	// Nor does printing the client show it.
	c := dial(t)
	for _, text := range []string{fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(text, callerToken(t)) {
			t.Errorf("the client prints its caller token: %s", text)
		}
	}
}

func TestSecureCallerMetadataOnTheContextGoesWithTheBearer(t *testing.T) {
	needMode(t, "tls")
	// The bearer from the environment and the caller's own x-request-id,
	// put on ctx either way, both arrive: the call is allowed and GitLab
	// sees the id.
	for _, tc := range []struct {
		name string
		with func(context.Context) context.Context
		want string
	}{
		{"NewOutgoingContext", func(c context.Context) context.Context {
			return metadata.NewOutgoingContext(c, metadata.Pairs("x-request-id", "go-req-new"))
		}, "go-req-new"},
		{"AppendToOutgoingContext", func(c context.Context) context.Context {
			return metadata.AppendToOutgoingContext(c, "x-request-id", "go-req-append")
		}, "go-req-append"},
	} {
		var echo map[string]string
		if err := dial(t).GetJSON(tc.with(ctx(t)), "/echo", &echo); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if echo["request_id"] != tc.want {
			t.Errorf("%s: GitLab saw X-Request-Id %q, want %q", tc.name, echo["request_id"], tc.want)
		}
	}
	// An authorization on ctx replaces the client's bearer for that call.
	_, err := dial(t).Do(metadata.AppendToOutgoingContext(ctx(t), "authorization", "Bearer "+wrongToken),
		"GET", "/projects/42")
	if err == nil || asError(t, err).Kind != gateway.KindCallerAuthentication {
		t.Errorf("with a wrong bearer on ctx: %v", err)
	}
}

func TestSecureExplicitOptionsWithoutTheEnvironment(t *testing.T) {
	needMode(t, "tls")
	ca, token := os.Getenv("GITLAB_GATEWAY_CA_FILE"), callerToken(t)
	withoutGatewayEnv(t)
	c := dial(t, gateway.WithCAFile(ca), gateway.WithCallerToken(token))
	var project struct{ ID int }
	if err := c.GetJSON(ctx(t), "/projects/42", &project); err != nil || project.ID != 42 {
		t.Fatalf("GetJSON = %v, %+v", err, project)
	}
	req, _ := gateway.NewRequest("GET", "/projects/42/issues")
	items := 0
	if err := c.PaginateItems(ctx(t), req, 3, func(json.RawMessage) error { items++; return nil }); err != nil || items < 3 {
		t.Errorf("PaginateItems = %v after %d items", err, items)
	}
}

func TestSecureNoBearerIsACallerAuthenticationError(t *testing.T) {
	needMode(t, "tls")
	e := refused(t, gateway.WithCallerToken(""))
	if e.Kind != gateway.KindCallerAuthentication || e.Code != codes.Unauthenticated ||
		e.Reason != "CALLER_UNAUTHENTICATED" || e.IsHTTP() {
		t.Errorf("error = %+v", e)
	}
	// In a batch the item fails with the same error.
	c := dial(t, gateway.WithCallerToken(""))
	in := make(chan *gatewayv1.Request, 1)
	in <- &gatewayv1.Request{Id: "a", Method: "GET", Path: "/projects/42"}
	close(in)
	var itemErr error
	if err := c.Batch(ctx(t), in, func(r *gatewayv1.Response) error {
		itemErr = gateway.ResponseError(r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if asError(t, itemErr).Kind != gateway.KindCallerAuthentication {
		t.Errorf("batch item error = %v", itemErr)
	}
}

func TestSecureWrongBearerIsRefusedWithoutEchoingIt(t *testing.T) {
	needMode(t, "tls")
	e := refused(t, gateway.WithCallerToken(wrongToken))
	if e.Kind != gateway.KindCallerAuthentication || strings.Contains(e.Error(), wrongToken) {
		t.Errorf("error = %v", e)
	}
}

func TestSecureClientTrustingAnotherCACannotConnect(t *testing.T) {
	needMode(t, "tls")
	e := refused(t, gateway.WithCAFile(os.Getenv("GG_TEST_OTHER_CA_FILE")),
		gateway.WithTimeout(10*time.Second))
	if e.Kind != gateway.KindGateway || e.Code != codes.Unavailable {
		t.Errorf("error = %v", e)
	}
}

func TestSecurePlaintextToTheTLSPortCannotConnect(t *testing.T) {
	needMode(t, "tls")
	e := refused(t, gateway.WithTLS(false), gateway.WithTimeout(10*time.Second))
	if e.Code != codes.Unavailable {
		t.Errorf("error = %v", e)
	}
}

func TestSecureBadTLSOptionsFailAtDial(t *testing.T) {
	needMode(t, "tls")
	target := os.Getenv("GITLAB_GATEWAY_TARGET")
	for name, tc := range map[string]struct {
		opts []gateway.Option
		want string
	}{
		"cert without key": {[]gateway.Option{gateway.WithClientCertificate(os.Getenv("GG_TEST_CLIENT_CERT_FILE"), "")}, "go together"},
		"missing CA":       {[]gateway.Option{gateway.WithCAFile("/nonexistent/nope.pem")}, "nope.pem"},
		"tls off with CA":  {[]gateway.Option{gateway.WithTLS(false), gateway.WithCAFile("/ca.pem")}, "WithTLS(false) with WithCAFile"},
		"token twice":      {[]gateway.Option{gateway.WithCallerToken("x"), gateway.WithMetadata("authorization", "y")}, "not both"},
	} {
		c, err := gateway.Dial(target, tc.opts...)
		if err == nil {
			c.Close()
			t.Errorf("%s: Dial succeeded", name)
		} else if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Dial error %q, want %q", name, err, tc.want)
		}
	}
}

func TestMutualTLSEnvironmentAlonePresentsTheCertificate(t *testing.T) {
	needMode(t, "mtls")
	if _, err := dial(t).Do(ctx(t), "GET", "/projects/42"); err != nil {
		t.Fatal(err)
	}
}

func TestMutualTLSCertificateIdentifiesTheCallerWithoutABearer(t *testing.T) {
	needMode(t, "mtls")
	ca, cert, key := os.Getenv("GITLAB_GATEWAY_CA_FILE"), os.Getenv("GG_TEST_CLIENT_CERT_FILE"),
		os.Getenv("GG_TEST_CLIENT_KEY_FILE")
	withoutGatewayEnv(t)
	if _, err := dial(t, gateway.WithCAFile(ca), gateway.WithClientCertificate(cert, key)).
		Do(ctx(t), "GET", "/projects/42"); err != nil {
		t.Fatal(err)
	}
}

func TestMutualTLSWithoutACertificateTheHandshakeFails(t *testing.T) {
	needMode(t, "mtls")
	e := refused(t, gateway.WithClientCertificate("", ""), gateway.WithTimeout(10*time.Second))
	if e.Code != codes.Unavailable {
		t.Errorf("error = %v", e)
	}
}
