package gateway_test

// Download and Upload against a live gateway + the demo GitLab
// (tests/client/demo_gitlab.h: the raw file big.bin, 3 MiB + 12345 bytes,
// byte i = i % 251, and the generic package registry that answers with the
// size and SHA-256 it received).

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	gateway "gitlab-gateway/client/go"
	"gitlab-gateway/client/go/gatewayv1"
	"google.golang.org/grpc/codes"
)

const bigSize = 3*1048576 + 12345

var (
	bigFile     = gateway.ProjectPath("42", "repository/files/big.bin/raw")
	missingFile = gateway.ProjectPath("42", "repository/files/missing.bin/raw")
	packageFile = gateway.ProjectPath("42", "packages/generic/tool/1.0/tool.bin")
)

func bigBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

func request(t *testing.T, method, path string, opts ...gateway.RequestOption) *gatewayv1.Request {
	t.Helper()
	r, err := gateway.NewRequest(method, path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// countingWriter records each Write's size: the body arrives in chunks.
type countingWriter struct {
	bytes.Buffer
	writes []int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes = append(w.writes, len(p))
	return w.Buffer.Write(p)
}

func TestDownloadWritesTheBodyByteExact(t *testing.T) {
	c := dial(t)
	var out countingWriter
	head, err := c.Download(ctx(t), request(t, "GET", bigFile), &out)
	if err != nil {
		t.Fatal(err)
	}
	if head.GetStatusCode() != 200 {
		t.Errorf("status %d", head.GetStatusCode())
	}
	if !bytes.Equal(out.Bytes(), bigBytes(bigSize)) {
		t.Fatalf("body: %d bytes, not the %d expected", out.Len(), bigSize)
	}
	if len(out.writes) < 4 {
		t.Errorf("writes %v: want one per chunk of at most 1 MiB", out.writes)
	}
	for _, n := range out.writes {
		if n > gateway.ChunkSize {
			t.Errorf("a write of %d bytes", n)
		}
	}
}

func TestOpenDownloadIsAReader(t *testing.T) {
	c := dial(t)
	body, err := c.OpenDownload(ctx(t), request(t, "GET", bigFile))
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	if got := body.Header("content-type"); got != "application/octet-stream" {
		t.Errorf("content-type %q", got)
	}
	// Small reads cross chunk boundaries.
	got, err := io.ReadAll(io.LimitReader(struct{ io.Reader }{body}, bigSize+1))
	if err != nil || !bytes.Equal(got, bigBytes(bigSize)) {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}
}

func TestDownloadErrorsAreTyped(t *testing.T) {
	c := dial(t)
	var out bytes.Buffer
	_, err := c.Download(ctx(t), request(t, "GET", missingFile), &out)
	if e := asError(t, err); e.Kind != gateway.KindNotFound || e.Code != codes.NotFound ||
		e.ResponseCode != 404 || e.ErrorMessage != "404 File Not Found" {
		t.Errorf("not found: %+v", e)
	}
	if out.Len() != 0 {
		t.Errorf("%d bytes written for a 404", out.Len())
	}
	// A transfer breaking mid-body (2 MiB + 5 of 2 MiB + 6 bytes, then the
	// demo GitLab closes) is an error, never a short success.
	_, err = c.Download(ctx(t), request(t, "GET", gateway.ProjectPath("42", "repository/files/truncated.bin/raw")), io.Discard)
	if e := asError(t, err); e.Kind != gateway.KindGateway || e.Code != codes.Unavailable {
		t.Errorf("truncated: %+v", e)
	}
	// An error of the writer cancels the transfer and comes back as it is.
	stop := errors.New("disk full")
	_, err = c.Download(ctx(t), request(t, "GET", bigFile), failingWriter{stop})
	if !errors.Is(err, stop) {
		t.Errorf("writer error: %v", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

type uploadEcho struct {
	Method           string `json:"method"`
	Size             int    `json:"size"`
	SHA256           string `json:"sha256"`
	ContentType      string `json:"content_type"`
	ContentLength    string `json:"content_length"`
	TransferEncoding string `json:"transfer_encoding"`
}

func checkArrived(t *testing.T, resp *gatewayv1.Response, size int) uploadEcho {
	t.Helper()
	var echo uploadEcho
	if err := json.Unmarshal([]byte(resp.GetText()), &echo); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(bigBytes(size))
	if resp.GetStatusCode() != 201 || echo.Method != "PUT" || echo.Size != size ||
		echo.SHA256 != hex.EncodeToString(sum[:]) ||
		echo.ContentLength != strconv.Itoa(size) || echo.TransferEncoding != "" {
		t.Errorf("arrived: %d %+v", resp.GetStatusCode(), echo)
	}
	return echo
}

// trickleReader hands out at most 1000 bytes per Read: a stream, not a buffer.
type trickleReader struct{ r io.Reader }

func (t trickleReader) Read(p []byte) (int, error) {
	if len(p) > 1000 {
		p = p[:1000]
	}
	return t.r.Read(p)
}

func TestUploadStreamsAFileAndAReader(t *testing.T) {
	c := dial(t)
	name := filepath.Join(t.TempDir(), "tool.bin")
	if err := os.WriteFile(name, bigBytes(bigSize), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	resp, err := c.Upload(ctx(t), request(t, "PUT", packageFile,
		gateway.Header("Content-Type", "application/octet-stream")), f, -1)
	if err != nil {
		t.Fatal(err)
	}
	if echo := checkArrived(t, resp, bigSize); echo.ContentType != "application/octet-stream" {
		t.Errorf("content type %q", echo.ContentType)
	}

	// A reader of unknown length with its size given; the method defaults to PUT.
	resp, err = c.Upload(ctx(t), request(t, "", packageFile),
		trickleReader{bytes.NewReader(bigBytes(bigSize))}, bigSize)
	if err != nil {
		t.Fatal(err)
	}
	checkArrived(t, resp, bigSize)
	resp, err = c.Upload(ctx(t), request(t, "PUT", packageFile), bytes.NewReader(bigBytes(5000)), -1)
	if err != nil {
		t.Fatal(err)
	}
	checkArrived(t, resp, 5000)
}

func TestUploadErrors(t *testing.T) {
	c := dial(t)
	_, err := c.Upload(ctx(t), request(t, "PUT", gateway.ProjectPath("7", "packages/generic/t/1/t.bin")),
		bytes.NewReader([]byte("x")), -1)
	if e := asError(t, err); e.Kind != gateway.KindNotFound || e.ResponseCode != 404 {
		t.Errorf("not found: %+v", e)
	}
	// Unknown size: sent chunked, which the demo GitLab refuses with 411.
	_, err = c.Upload(ctx(t), request(t, "PUT", packageFile), trickleReader{bytes.NewReader([]byte("abc"))}, -1)
	if e := asError(t, err); e.Kind != gateway.KindHTTP || e.ResponseCode != 411 {
		t.Errorf("chunked: %+v", e)
	}
	// Shorter than announced: refused by the gateway.
	_, err = c.Upload(ctx(t), request(t, "PUT", packageFile), trickleReader{bytes.NewReader([]byte("abc"))}, 10)
	if e := asError(t, err); e.Kind != gateway.KindGateway || e.Code != codes.InvalidArgument {
		t.Errorf("short body: %+v", e)
	}
	// A read error cancels the call and comes back as it is.
	stop := errors.New("disk gone")
	_, err = c.Upload(ctx(t), request(t, "PUT", packageFile),
		io.MultiReader(bytes.NewReader(bigBytes(2000)), failingReader{stop}), 5000)
	if !errors.Is(err, stop) {
		t.Errorf("reader error: %v", err)
	}
}

type failingReader struct{ err error }

func (r failingReader) Read([]byte) (int, error) { return 0, r.err }
