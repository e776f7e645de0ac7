package gateway

// Download and Upload: bodies of any size, streamed (README: Large bodies).
// Neither applies WithTimeout's default: a big transfer is bounded by ctx.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"

	"gitlab-gateway/client/go/gatewayv1"
	"google.golang.org/protobuf/proto"
)

// ChunkSize is the size of the pieces Upload reads and sends (1 MiB, the
// gateway's own chunk size).
const ChunkSize = 1 << 20

// DownloadBody is an open Download: Head arrived, Read returns the body.
// Read's error is an *Error when the transfer failed mid-body (never io.EOF
// on a short body). Close cancels the rest; call it when done. Not safe for
// concurrent use.
type DownloadBody struct {
	// Head is the answer without body: StatusCode, Headers, Page, RateLimit.
	Head   *gatewayv1.Response
	stream gatewayv1.Gateway_DownloadClient
	cancel context.CancelFunc
	buf    []byte
	err    error
}

// OpenDownload starts a Download of r (a GET) and returns once the head
// arrived; GitLab's non-2xx answers are an *Error here, as Execute's.
//
//	body, err := c.OpenDownload(ctx, req)
//	if err != nil { return err }
//	defer body.Close()
//	_, err = io.Copy(f, body)
func (c *Client) OpenDownload(ctx context.Context, r *gatewayv1.Request) (*DownloadBody, error) {
	ctx, cancel := context.WithCancel(ctx)
	stream, err := c.stub.Download(c.context(ctx), c.prepare(r))
	if err != nil {
		cancel()
		return nil, ErrorFromRPC(err)
	}
	first, err := stream.Recv()
	if err != nil {
		cancel()
		if err == io.EOF {
			return nil, errors.New("gateway: Download ended without a head")
		}
		return nil, ErrorFromRPC(err)
	}
	if first.GetHead() == nil {
		cancel()
		return nil, errors.New("gateway: Download did not start with a head")
	}
	return &DownloadBody{Head: first.GetHead(), stream: stream, cancel: cancel}, nil
}

// Header is the first value of the head's header name (case-insensitive).
func (b *DownloadBody) Header(name string) string {
	for _, h := range b.Head.GetHeaders() {
		if strings.EqualFold(h.GetName(), name) {
			return h.GetValue()
		}
	}
	return ""
}

// Read implements io.Reader over the body's chunks.
func (b *DownloadBody) Read(p []byte) (int, error) {
	for len(b.buf) == 0 && b.err == nil {
		b.receive()
	}
	if len(b.buf) == 0 {
		return 0, b.err
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

// WriteTo implements io.WriterTo: io.Copy writes each chunk as it arrives,
// without copying it into a buffer first.
func (b *DownloadBody) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for {
		if len(b.buf) > 0 {
			n, err := w.Write(b.buf)
			total += int64(n)
			b.buf = b.buf[n:]
			if err != nil {
				return total, err
			}
		}
		if b.err != nil {
			if b.err == io.EOF {
				return total, nil
			}
			return total, b.err
		}
		b.receive()
	}
}

// receive takes the next chunk into buf, or the stream's end or error into
// err (io.EOF at the end, the typed *Error otherwise).
func (b *DownloadBody) receive() {
	chunk, err := b.stream.Recv()
	switch {
	case err == io.EOF:
		b.err = io.EOF
	case err != nil:
		b.err = ErrorFromRPC(err)
	default:
		b.buf = chunk.GetData()
	}
}

// Close cancels what is left of the transfer (nothing once it ended).
func (b *DownloadBody) Close() error {
	b.cancel()
	return nil
}

// Download writes the body of r (a GET) to w as it arrives and returns the
// head (StatusCode, Headers, Page, RateLimit). GitLab's non-2xx answers and
// failures mid-body are *Error; an error of w cancels the transfer and is
// returned as it is. w may have received part of the body when an error is
// returned.
func (c *Client) Download(ctx context.Context, r *gatewayv1.Request, w io.Writer) (*gatewayv1.Response, error) {
	body, err := c.OpenDownload(ctx, r)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	if _, err := body.WriteTo(w); err != nil {
		return nil, err
	}
	return body.Head, nil
}

// Upload sends the body read from body with r's method (PUT or POST; ""
// is PUT) in pieces of ChunkSize, never holding more than one, and returns
// GitLab's answer as Execute does (failures are *Error; a read error of
// body cancels the call and is returned as it is). size is the body's
// length, sent as Content-Length (a body of another length fails the
// upload); -1: found for *os.File (a regular file, from its offset),
// *bytes.Reader, *bytes.Buffer and *strings.Reader, else the body is sent
// chunked. Set Content-Type with Header. Never retried.
//
//	f, _ := os.Open("tool.bin")
//	req, _ := gateway.NewRequest("PUT", gateway.ProjectPath("42",
//		"packages/generic/tool/1.0/tool.bin"), gateway.Header("Content-Type", "application/octet-stream"))
//	resp, err := c.Upload(ctx, req, f, -1)
func (c *Client) Upload(ctx context.Context, r *gatewayv1.Request, body io.Reader, size int64) (*gatewayv1.Response, error) {
	if size < 0 {
		size = BodySize(body)
	}
	r = c.prepare(r)
	if r.GetMethod() == "" {
		r = proto.Clone(r).(*gatewayv1.Request)
		r.Method = "PUT"
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.stub.Upload(c.context(ctx))
	if err != nil {
		return nil, ErrorFromRPC(err)
	}
	first := &gatewayv1.UploadChunk{Request: r}
	if size >= 0 {
		first.Size = proto.Int64(size)
	}
	// A failed Send means the call ended: CloseAndRecv tells why.
	if stream.Send(first) == nil {
		for {
			// A fresh buffer each time: grpc-go forbids changing a message
			// after Send.
			buf := make([]byte, ChunkSize)
			n, err := io.ReadFull(body, buf)
			if n > 0 {
				if stream.Send(&gatewayv1.UploadChunk{Data: buf[:n]}) != nil {
					break
				}
			}
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				break
			}
			if err != nil {
				cancel()
				return nil, err
			}
		}
	}
	resp, err := stream.CloseAndRecv()
	return resp, ErrorFromRPC(err)
}

// BodySize is the number of bytes body will yield when that is known
// without reading it (see Upload), else -1.
func BodySize(body io.Reader) int64 {
	switch b := body.(type) {
	case *bytes.Reader:
		return int64(b.Len())
	case *bytes.Buffer:
		return int64(b.Len())
	case *strings.Reader:
		return int64(b.Len())
	case *os.File:
		info, err := b.Stat()
		if err != nil || !info.Mode().IsRegular() {
			return -1
		}
		offset, err := b.Seek(0, io.SeekCurrent)
		if err != nil || offset > info.Size() {
			return -1
		}
		return info.Size() - offset
	}
	return -1
}
