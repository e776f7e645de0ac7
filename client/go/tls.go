package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
)

// The gateway's TLS and caller identity, as gitlab-gateway-cli and the
// Python and Node clients take them: each setting left unset (nil) comes
// from its environment variable when Dial or New runs.
type security struct {
	caFile, certFile, keyFile *string // $GITLAB_GATEWAY_CA_FILE, _CERT_FILE, _KEY_FILE
	tls                       *bool   // WithTLS
	callerToken               *string // $GITLAB_GATEWAY_CALLER_TOKEN
}

// WithCAFile dials the gateway over TLS, verified by the CAs in path (PEM).
// Default: $GITLAB_GATEWAY_CA_FILE; "" sets none even when that is set.
func WithCAFile(path string) Option {
	return func(o *options) { o.security.caFile = &path }
}

// WithClientCertificate presents a client certificate and key (PEM files)
// to a gateway that requires mTLS. Default: $GITLAB_GATEWAY_CERT_FILE and
// $GITLAB_GATEWAY_KEY_FILE; "", "" presents none even when those are set.
func WithClientCertificate(certFile, keyFile string) Option {
	return func(o *options) { o.security.certFile, o.security.keyFile = &certFile, &keyFile }
}

// WithTLS(true) dials over TLS even without a CA file (verified by the
// system's CAs); WithTLS(false) dials plaintext whatever the environment
// says. Without it: TLS when a CA or client certificate file is set.
func WithTLS(on bool) Option {
	return func(o *options) { o.security.tls = &on }
}

// WithCallerToken sends the caller's bearer secret as
// `authorization: Bearer <secret>` metadata with every call (in clear
// without TLS); it is never logged or put in an error. Default:
// $GITLAB_GATEWAY_CALLER_TOKEN; "" sends none even when that is set.
// Surrounding whitespace (a file's newline) is dropped.
func WithCallerToken(secret string) Option {
	return func(o *options) { o.security.callerToken = &secret }
}

// setting is *value, else $env when value is nil.
func setting(value *string, env string) string {
	if value != nil {
		return *value
	}
	return os.Getenv(env)
}

// transport builds the TLS credentials the settings ask for; nil: plaintext.
func (s security) transport() (credentials.TransportCredentials, error) {
	if s.tls != nil && !*s.tls {
		for name, v := range map[string]*string{"WithCAFile": s.caFile, "WithClientCertificate": s.certFile} {
			if v != nil && *v != "" {
				return nil, fmt.Errorf("gateway: WithTLS(false) with %s", name)
			}
		}
		return nil, nil
	}
	caFile := setting(s.caFile, "GITLAB_GATEWAY_CA_FILE")
	certFile := setting(s.certFile, "GITLAB_GATEWAY_CERT_FILE")
	keyFile := setting(s.keyFile, "GITLAB_GATEWAY_KEY_FILE")
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("gateway: a client certificate and its key go together " +
			"(WithClientCertificate, GITLAB_GATEWAY_CERT_FILE, GITLAB_GATEWAY_KEY_FILE)")
	}
	if caFile == "" && certFile == "" && (s.tls == nil || !*s.tls) {
		return nil, nil
	}
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("gateway: CA file: %w", err)
		}
		config.RootCAs = x509.NewCertPool()
		if !config.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("gateway: CA file %s: no PEM certificate", caFile)
		}
	}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("gateway: client certificate %s, key %s: %w", certFile, keyFile, err)
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return credentials.NewTLS(config), nil
}

// explicit reports whether a TLS setting was given as an option.
func (s security) explicit() bool {
	return s.caFile != nil || s.certFile != nil || s.tls != nil
}

// checkCallerToken refuses a caller token with a character gRPC metadata
// cannot carry (only visible ASCII, 0x21-0x7E, after trimming), naming the
// option and variable, never the value.
func (s security) checkCallerToken() error {
	token := strings.TrimSpace(setting(s.callerToken, "GITLAB_GATEWAY_CALLER_TOKEN"))
	for i := 0; i < len(token); i++ {
		if token[i] < 0x21 || token[i] > 0x7e {
			return errors.New("gateway: the caller token (WithCallerToken or GITLAB_GATEWAY_CALLER_TOKEN) " +
				"may hold only visible ASCII characters (0x21-0x7E)")
		}
	}
	return nil
}

// withBearer adds the caller token to md unless md already carries an
// authorization entry (WithMetadata's wins).
func (s security) withBearer(md metadata.MD) metadata.MD {
	token := strings.TrimSpace(setting(s.callerToken, "GITLAB_GATEWAY_CALLER_TOKEN"))
	if token == "" || len(md.Get("authorization")) > 0 {
		return md
	}
	return metadata.Join(md, metadata.Pairs("authorization", "Bearer "+token))
}

// String and GoString keep fmt from printing a Client's fields, the caller
// token among them.
func (c *Client) String() string   { return "gateway.Client" }
func (c *Client) GoString() string { return "gateway.Client" }
